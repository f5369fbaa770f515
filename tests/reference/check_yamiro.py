#!/usr/bin/python3
"""Runs a yamiro binary on the ncnn goldens whose graph keeps the image size (the Real-ESRGAN
family: there the whole-image `upscale --tile 0` output is the raw graph output) and prints
max |diff| against tests/data/ncnn/NAME.out.f32.

  check_yamiro.py YAMIRO MODEL_DIR [NAME...]

MODEL_DIR holds NAME.param/.bin (scripts/fetch-models.sh installs them so) or is the
package's real-esrgan/models folder. Exit 1 if a model yamiro runs is off by more than
1e-4; a model yamiro refuses is reported, not failed. Shrinking graphs (Real-CUGAN, waifu2x)
are not covered here: the engine pads them, so their raw output needs a graph-level hook.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, '..', 'data', 'ncnn'))
SAME_SIZE = ['realesr-animevideov3-x2', 'realesr-animevideov3-x3', 'realesr-animevideov3-x4',
             'realesrgan-x4plus-anime']


def write_png(path, rgb):
    import zlib
    import struct
    h, w, _ = rgb.shape
    raw = b''.join(b'\0' + rgb[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + \
        chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    yamiro, model_dir = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or SAME_SIZE
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            with open(os.path.join(DATA, name + '.json')) as f:
                meta = json.load(f)
            if meta['shrink_per_side'] != 0:
                print(f'{name}: shrinking graph, not checked here')
                continue
            i, o = meta['input'], meta['output']
            rgb = np.fromfile(os.path.join(DATA, i['file']), dtype=np.uint8).reshape(i['h'], i['w'], 3)
            src = os.path.join(tmp, name + '.png')
            write_png(src, rgb)
            param = os.path.join(model_dir, name + '.param')
            out = os.path.join(tmp, name + '.f32')
            r = subprocess.run([yamiro, '-q', 'upscale', src, '-o', out, '-m', param, '--tile', '0',
                                '--precision', 'fp32', '--device', 'cpu', '--overwrite'],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f'{name}: yamiro refuses it (exit {r.returncode}): {r.stderr.strip()[:200]}')
                continue
            y = np.fromfile(out, dtype='<f4')
            g = np.fromfile(os.path.join(DATA, o['file']), dtype='<f4')
            if y.size != g.size:
                print(f'{name}: yamiro wrote {y.size} floats, the golden has {g.size}')
                bad += 1
                continue
            d = float(np.abs(y - g).max())
            ok = d <= meta['tolerance_max_abs']
            bad += not ok
            print(f"{name}: max |diff| {d:.3g} {'ok' if ok else 'FAIL'}")
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
