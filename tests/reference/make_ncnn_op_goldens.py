#!/usr/bin/python3
"""Writes the hand-written ncnn op graphs of issue 13 and their goldens into
tests/data/ncnn/ops/: small .param graphs (no weights) exercising the layer forms the 29
models do not use — BinaryOp types 14-18 (logaddexp, floor divide and C remainder, both
operand orders, scalar forms), UnaryOp types 20-27, ncnn's broadcast of 1-D/2-D/3-D blobs
against a 4-D one, Reshape to and from 4-D (`11=` depth, 0 = keep, -1 = inferred), all 24
Permute orders of a 4-D blob — and the output of tests/reference/ncnn_ref.py for a fixed
input.

  make_ncnn_op_goldens.py [--out tests/data/ncnn/ops] [--check]

Per graph NAME: NAME.param, NAME.in.f32 (the input blob, c x h x w float32 LE),
NAME.out.f32 (the output blob, float32 LE, ncnn's shape in NAME.json) and NAME.json.
--check recomputes every output and compares (max |diff| <= 1e-6).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ncnn_ref  # noqa: E402

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, '..', 'data', 'ncnn', 'ops'))


def param_text(layers):
    """layers: list of (type, name, bottoms, tops, params string)."""
    blobs = {t for _, _, _, tops, _ in layers for t in tops}
    lines = ['7767517', f'{len(layers)} {len(blobs)}']
    for ty, name, bottoms, tops, params in layers:
        lines.append(f'{ty:<16} {name:<12} {len(bottoms)} {len(tops)} ' +
                     ' '.join(bottoms + tops) + (' ' + params if params else ''))
    return '\n'.join(lines) + '\n'


def rolled_divisor(c):
    """b = |roll(x, 1 along w)| + 0.5 built from x: a second operand that never nears 0."""
    return [
        ('Split', 'sx', ['x'], ['x0', 'x1', 'x2'], ''),
        ('Crop', 'cr0', ['x0'], ['r0'], '-23309=1,1 -23310=1,-233 -23311=1,2'),
        ('Crop', 'cr1', ['x1'], ['r1'], '-23309=1,0 -23310=1,1 -23311=1,2'),
        ('Concat', 'roll', ['r0', 'r1'], ['rolled'], '0=2'),
        ('UnaryOp', 'absb', ['rolled'], ['absr'], '0=0'),
        ('BinaryOp', 'bplus', ['absr'], ['b'], '0=0 1=1 2=0.5'),
    ]


def binaryop_ext():
    layers = [('Input', 'in', [], ['x'], '0=4 1=12 2=2')] + rolled_divisor(2)
    layers.append(('BinaryOp', 'ax3', ['x2'], ['a'], '0=2 1=1 2=3.0'))
    layers.append(('Split', 'sa', ['a'], [f'a{i}' for i in range(15)], ''))
    layers.append(('Split', 'sb', ['b'], [f'b{i}' for i in range(10)], ''))
    outs = []
    k = 0
    for op in (14, 15, 16, 17, 18):
        layers.append(('BinaryOp', f'op{op}', [f'a{k}', f'b{k}'], [f'y{op}'], f'0={op}'))
        outs.append(f'y{op}')
        k += 1
    for op in (14, 15, 16, 17, 18):   # b first: the operand order matters for 15-18
        layers.append(('BinaryOp', f'rev{op}', [f'b{k}', f'a{k}'], [f'z{op}'], f'0={op}'))
        outs.append(f'z{op}')
        k += 1
    for op in (14, 15, 16, 17, 18):   # scalar forms
        layers.append(('BinaryOp', f'sc{op}', [f'a{k}'], [f's{op}'], f'0={op} 1=1 2=1.25'))
        outs.append(f's{op}')
        k += 1
    layers.append(('Concat', 'cat', outs, ['out'], '0=0'))
    return layers, (2, 12, 4)


def unaryop_ext():
    layers = [('Input', 'in', [], ['x'], '0=4 1=6 2=2'),
              ('Split', 'sx', ['x'], [f'x{i}' for i in range(8)], '')]
    outs = []
    for i, op in enumerate((20, 21, 22, 23, 24)):
        layers.append(('UnaryOp', f'u{op}', [f'x{i}'], [f'u{op}'], f'0={op}'))
        outs.append(f'u{op}')
    # acosh on |x| + 1, atanh on 0.45 x, log1p on |x|
    layers += [('UnaryOp', 'abs1', ['x5'], ['ab1'], '0=0'),
               ('BinaryOp', 'p1', ['ab1'], ['ge1'], '0=0 1=1 2=1.0'),
               ('UnaryOp', 'u25', ['ge1'], ['u25'], '0=25'),
               ('BinaryOp', 'm45', ['x6'], ['small'], '0=2 1=1 2=0.45'),
               ('UnaryOp', 'u26', ['small'], ['u26'], '0=26'),
               ('UnaryOp', 'abs2', ['x7'], ['ab2'], '0=0'),
               ('UnaryOp', 'u27', ['ab2'], ['u27'], '0=27')]
    outs += ['u25', 'u26', 'u27']
    layers.append(('Concat', 'cat', outs, ['out'], '0=0'))
    return layers, (2, 6, 4)


def broadcast_4d():
    """1-D, 2-D and 3-D operands against a 4-D blob (c=2, d=3, h=2, w=4), either side."""
    layers = [('Input', 'in', [], ['x'], '0=4 1=6 2=2'),
              ('Split', 'sx', ['x'], ['x0', 'x1', 'x2', 'x3', 'x4'], ''),
              ('Reshape', 'to4d', ['x0'], ['r'], '0=4 1=2 11=3 2=2'),
              ('Split', 'sr', ['r'], ['r0', 'r1', 'r2', 'r3', 'r4'], ''),
              # 3-D (c=2, h=3, w=2) -> (2, 3, 2, 1)
              ('Crop', 'c3', ['x1'], ['t3'], '-23309=2,0,0 -23310=2,3,2 -23311=2,1,2'),
              # 2-D (h=2, w=3) -> (2, 3, 1, 1)
              ('Crop', 'c2', ['x2'], ['t2c'], '-23309=3,1,0,1 -23310=3,2,2,4 -23311=3,0,1,2'),
              ('Reshape', 'to2d', ['t2c'], ['t2'], '0=3 1=2'),
              # 1-D of length c -> (2, 1, 1, 1)
              ('Pooling', 'gap', ['x3'], ['v2'], '0=1 4=1'),
              # 1-D of length w (4 != c) -> (1, 1, 1, 4)
              ('Crop', 'c1', ['x4'], ['v4c'], '-23309=2,0,5 -23310=2,1,6 -23311=2,0,1'),
              ('Reshape', 'to1d', ['v4c'], ['v4'], '0=4'),
              ('BinaryOp', 'add3', ['r0', 't3'], ['y0'], '0=0'),
              ('BinaryOp', 'mul2', ['t2', 'r1'], ['y1'], '0=2'),
              ('BinaryOp', 'sub1', ['r2', 'v2'], ['y2'], '0=1'),
              ('BinaryOp', 'max1', ['v4', 'r3'], ['y3'], '0=4'),
              ('BinaryOp', 'rsub1', ['v4'], ['v4s'], '0=7 1=1 2=0.25'),
              ('BinaryOp', 'lae', ['r4', 'v4s'], ['y4'], '0=14'),
              ('Concat', 'cat', ['y0', 'y1', 'y2', 'y3', 'y4'], ['out'], '0=0')]
    return layers, (2, 6, 4)


_ORDERS4 = 24


def permute_4d():
    """Every order type of a 4-D blob (c=2, d=3, h=4, w=5), each flattened, all concatenated;
    and the 3-D orders of a c=2, h=3, w=5 blob the same way."""
    layers = [('Input', 'in', [], ['x'], '0=5 1=12 2=2'),
              ('Split', 'sx', ['x'], ['x0', 'x1'], ''),
              ('Reshape', 'to4d', ['x0'], ['r'], '0=5 1=4 11=3 2=2'),
              ('Split', 'sr', ['r'], [f'r{t}' for t in range(_ORDERS4)], ''),
              ('Crop', 'c3', ['x1'], ['c3d'], '-23309=1,0 -23310=1,3 -23311=1,1'),
              ('Split', 'st', ['c3d'], [f't{t}' for t in range(6)], '')]
    outs = []
    for t in range(_ORDERS4):
        layers.append(('Permute', f'p4_{t}', [f'r{t}'], [f'q{t}'], f'0={t}'))
        layers.append(('Reshape', f'f4_{t}', [f'q{t}'], [f'f{t}'], '0=-1'))
        outs.append(f'f{t}')
    for t in range(6):
        layers.append(('Permute', f'p3_{t}', [f't{t}'], [f'q3_{t}'], f'0={t}'))
        layers.append(('Flatten', f'f3_{t}', [f'q3_{t}'], [f'g{t}'], ''))
        outs.append(f'g{t}')
    layers.append(('Concat', 'cat', outs, ['out'], '0=0'))
    return layers, (2, 12, 5)


def reshape_4d():
    """Reshapes 3-D -> 4-D -> 4-D (0 keeps, -1 infers) -> 3-D -> 4-D, a softmax over the
    depth axis and a permute that moves the depth outermost."""
    layers = [('Input', 'in', [], ['x'], '0=5 1=12 2=2'),
              ('Reshape', 'r1', ['x'], ['a'], '0=5 1=4 11=3 2=2'),
              ('Reshape', 'r2', ['a'], ['b'], '0=0 1=-1 11=1 2=0'),
              ('Reshape', 'r3', ['b'], ['c'], '0=10 1=-1 2=3'),
              ('Reshape', 'r4', ['c'], ['d'], '0=2 1=2 11=5 2=-1'),
              ('Softmax', 'sm', ['d'], ['e'], '0=1 1=1'),
              ('Permute', 'pm', ['e'], ['out'], '0=6')]
    return layers, (2, 12, 5)


GRAPHS = {
    'binaryop_ext': binaryop_ext,
    'unaryop_ext': unaryop_ext,
    'broadcast_4d': broadcast_4d,
    'permute_4d': permute_4d,
    'reshape_4d': reshape_4d,
}


def make(name, out_dir):
    layers, shape = GRAPHS[name]()
    text = param_text(layers)
    ppath = os.path.join(out_dir, name + '.param')
    gen = torch.Generator().manual_seed(13)
    x = torch.rand(shape, generator=gen) * 4 - 2
    return text, ppath, x


def run(ppath, x):
    net = ncnn_ref.Net(ppath)
    outs = net.run({'x': x})
    return outs['out'].contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for name in GRAPHS:
        text, ppath, x = make(name, args.out)
        pin = os.path.join(args.out, name + '.in.f32')
        pout = os.path.join(args.out, name + '.out.f32')
        if args.check:
            if open(ppath).read() != text:
                sys.exit(f'{name}: {ppath} differs from the generator')
            xin = torch.from_numpy(np.fromfile(pin, dtype='<f4')).view(x.shape)
            y = run(ppath, xin)
            old = np.fromfile(pout, dtype='<f4')
            d = float(np.abs(old - y.numpy().reshape(-1)).max()) if old.size == y.numel() else float('inf')
            print(f'{name}: max |diff| {d:.3g}')
            if d > 1e-6:
                sys.exit(f'{name}: golden drifted ({d:.3g} > 1e-6)')
            continue
        with open(ppath, 'w') as f:
            f.write(text)
        y = run(ppath, x)
        x.numpy().astype('<f4').tofile(pin)
        y.numpy().astype('<f4').tofile(pout)
        meta = {
            'graph': name,
            'param': name + '.param',
            'input': {'file': name + '.in.f32', 'blob': 'x', 'shape_chw': list(x.shape),
                      'layout': 'float32 little-endian, ncnn order (c, h, w)'},
            'output': {'file': name + '.out.f32', 'blob': 'out', 'shape': list(y.shape),
                       'layout': 'float32 little-endian, ncnn order (c, d, h, w / c, h, w / w)',
                       'min': float(y.min()), 'max': float(y.max())},
            'tolerance_max_abs': 1e-5,
            'reference': 'tests/reference/ncnn_ref.py (eager PyTorch %s, fp32)' % torch.__version__,
        }
        with open(os.path.join(args.out, name + '.json'), 'w') as f:
            json.dump(meta, f, indent=1)
            f.write('\n')
        print(f'{name}: {len(layers_of(text))} layers, in {tuple(x.shape)} -> out {tuple(y.shape)}')


def layers_of(text):
    return text.splitlines()[2:]


if __name__ == '__main__':
    main()
