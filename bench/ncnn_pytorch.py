#!/usr/bin/python3
"""Plain eager PyTorch run of an ncnn graph, the baseline of bench/ncnn-vs-pytorch.sh.

  ncnn_pytorch.py PARAM BIN SIDE [--threads N] [--warmup 1] [--repeats 3] [--input BLOB]

Runs the graph with tests/reference/ncnn_ref.py (each layer one or a few stock torch calls:
F.conv2d, F.conv_transpose2d, F.interpolate, ...; fp32, NCHW, eager) on a random 3 x SIDE x
SIDE input under torch.inference_mode with torch.set_num_threads(N), after the warm-up runs,
and prints one JSON line: {"seconds": {"median", "min", "all"}, "threads", "side", "torch"}.
SIDE is the graph input: the image side plus the border the graph eats (the caller adds it).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'reference'))
import ncnn_ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('param')
    ap.add_argument('bin')
    ap.add_argument('side', type=int)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = ncnn_ref.Net(args.param, args.bin)
    blob = net.inputs[0]
    x = torch.rand((3, args.side, args.side), generator=torch.Generator().manual_seed(0))
    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.repeats):
            t0 = time.perf_counter()
            net.run({blob: x})
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(dt)
    print(json.dumps({'seconds': {'median': statistics.median(times), 'min': min(times), 'all': times},
                      'threads': torch.get_num_threads(), 'side': args.side, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
