#!/usr/bin/python3
"""Writes the ncnn goldens of issue 13 into tests/data/ncnn/: for each of the 29 models of
waifu2x@1.6.5, the reference's fp32 graph output (untiled, raw, unclamped) for a small crop
of an anime-style drawing, padded the way the model's peer pads a whole image.

  make_ncnn_goldens.py [--out tests/data/ncnn] [--models NAME,...] [--check]

Per model NAME:
  NAME.in.rgb    graph input, H x W x 3 interleaved RGB uint8 (already padded)
  NAME.out.f32   graph output, C x H x W (RGB planes) float32 little-endian
  NAME.json      shapes, crop, padding, scale, shrink, blob names, SHA-256 of everything
--check recomputes and compares with the files instead of writing (max |diff| <= 1e-6).
"""
import argparse
import hashlib
import json
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families as Fm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, '..', 'data', 'ncnn'))
IMAGE = '/usr/share/doc/opencv-doc/examples/data/HappyFish.jpg'
# a 24x20 crop across the fish's pupil, eye white, black outline and orange fill
CROP = dict(x=70, y=50, w=24, h=20)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def shrink_of(m):
    return 0 if m['family'] == 'realesrgan' else m['prepad']


def golden(name, crop_rgb):
    m = Fm.MODELS[name]
    s = m['scale']
    h, w = crop_rgb.shape[:2]
    if m['family'] == 'realesrgan':
        # same-size graph: feed the crop itself (the peer's 10 px reflect border and yamiro's
        # zero border are both outside the graph)
        padded, pads = np.ascontiguousarray(crop_rgb), (0, 0, 0, 0)
    else:
        padded, pads = Fm.graph_input(name, crop_rgb)
    x = Fm.to_float(padded)
    y = Fm.run_graph(name, x).contiguous()
    H, W = padded.shape[:2]
    k = shrink_of(m)
    expect = (3, s * (H - 2 * k), s * (W - 2 * k))
    if tuple(y.shape) != expect:
        raise SystemExit(f'{name}: graph output {tuple(y.shape)}, expected {expect}')
    t, b, l, r = pads
    meta = {
        'model': name,
        'family': m['family'],
        'scale': s,
        'noise': m['noise'],
        'package': 'waifu2x@1.6.5 (npm)',
        'param': 'package/' + m['param'],
        'bin': 'package/' + m['bin'],
        'param_sha256': sha256_file(Fm.model_files(name)[0]),
        'bin_sha256': sha256_file(Fm.model_files(name)[1]),
        'source_image': 'opencv-doc: examples/data/HappyFish.jpg (decoded by OpenCV 4.6, BGR->RGB)',
        'crop': dict(CROP),
        'pad': {'top': t, 'bottom': b, 'left': l, 'right': r,
                'border': 'none' if m['family'] == 'realesrgan' else m['border']},
        'input': {'file': f'{name}.in.rgb', 'layout': 'HWC interleaved RGB uint8',
                  'h': H, 'w': W, 'blob': m['input'],
                  'to_float': 'CHW float32 = u8 * (1/255.f)'},
        'output': {'file': f'{name}.out.f32', 'layout': 'CHW planar RGB float32 little-endian',
                   'c': 3, 'h': int(y.shape[1]), 'w': int(y.shape[2]), 'blob': m['output'],
                   'min': float(y.min()), 'max': float(y.max()), 'mean': float(y.mean())},
        'shrink_per_side': k,
        'output_size_rule': f'{s} * (input - 2 * {k})',
        'input_multiple': 'none' if m['family'] == 'realesrgan' else
        f"input - 2*{k} must be a multiple of {m['multiple']}",
        'peer_pipeline': pipeline_text(m),
        'tolerance_max_abs': 1e-4,
        'reference': 'tests/reference/ncnn_ref.py (eager PyTorch %s, fp32)' % torch.__version__,
    }
    return padded, y, meta


def pipeline_text(m):
    s = m['scale']
    if m['family'] == 'realcugan':
        extra = ' + nearest-upscaled (x4) input' if s == 4 else ''
        return (f"pad {m['prepad']} px reflect on every side (bottom/right also to a multiple of "
                f"{m['multiple']}), run, image = output[:, :h*{s}, :w*{s}] * 255{extra}")
    if m['family'].startswith('waifu2x'):
        return (f"pad {m['prepad']} px replicate on every side (bottom/right also to a multiple of "
                f"{m['multiple']}), run, image = output[:, :h*{s}, :w*{s}] * 255")
    return ("same-size graph; realesrgan-ncnn-vulkan pads 10 px reflect and crops 10*scale, "
            "yamiro keeps its zero border; image = output * 255")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--models', default='')
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('REF_THREADS', '1')))
    im = cv2.imread(IMAGE, cv2.IMREAD_COLOR)
    if im is None:
        sys.exit(f'make_ncnn_goldens: {IMAGE} missing (apt-get install opencv-doc)')
    c = CROP
    crop = cv2.cvtColor(np.ascontiguousarray(im[c['y']:c['y'] + c['h'], c['x']:c['x'] + c['w']]),
                        cv2.COLOR_BGR2RGB)
    names = [n for n in args.models.split(',') if n] or list(Fm.MODELS)
    os.makedirs(args.out, exist_ok=True)
    worst = 0.0
    total = 0
    for name in names:
        padded, y, meta = golden(name, crop)
        pin = os.path.join(args.out, meta['input']['file'])
        pout = os.path.join(args.out, meta['output']['file'])
        pjson = os.path.join(args.out, name + '.json')
        out_bytes = y.numpy().astype('<f4').tobytes()
        if args.check:
            old_in = np.fromfile(pin, dtype=np.uint8)
            if not np.array_equal(old_in, padded.reshape(-1)):
                sys.exit(f'{name}: input differs from {pin}')
            old = np.fromfile(pout, dtype='<f4')
            if old.size != y.numel():
                sys.exit(f'{name}: {pout} has {old.size} floats, expected {y.numel()}')
            d = float(np.abs(old - y.numpy().reshape(-1)).max())
            worst = max(worst, d)
            print(f'{name}: max |diff| {d:.3g}', flush=True)
            if d > 1e-6:
                sys.exit(f'{name}: golden drifted ({d:.3g} > 1e-6)')
            continue
        with open(pin, 'wb') as f:
            f.write(padded.tobytes())
        with open(pout, 'wb') as f:
            f.write(out_bytes)
        meta['input']['sha256'] = sha256_file(pin)
        meta['output']['sha256'] = sha256_file(pout)
        with open(pjson, 'w') as f:
            json.dump(meta, f, indent=1)
            f.write('\n')
        size = os.path.getsize(pin) + os.path.getsize(pout) + os.path.getsize(pjson)
        total += size
        print(f"{name}: in {meta['input']['w']}x{meta['input']['h']} -> out "
              f"{meta['output']['w']}x{meta['output']['h']}, {size / 1024:.0f} KiB", flush=True)
    if args.check:
        print(f'all {len(names)} goldens reproduce (worst {worst:.3g})')
    else:
        print(f'{len(names)} goldens, {total / 1024:.0f} KiB')


if __name__ == '__main__':
    main()
