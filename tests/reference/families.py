#!/usr/bin/python3
"""The 29 ncnn models of waifu2x@1.6.5 and their family pipelines, as the peer binaries
(realcugan-ncnn-vulkan, waifu2x-ncnn-vulkan, realesrgan-ncnn-vulkan) run them on a whole
image in one tile. Built on ncnn_ref.py.

Real-CUGAN: pre-pad p = 18/14/19 (x2/x3/x4) on every side, bottom/right also up to a
  multiple of 2 (x2, x4) or 4 (x3), reflect border; the graph shrinks by p*scale per side;
  out = graph[:h*s, :w*s]; x4 adds the nearest-upscaled input (outside the graph).
waifu2x cunet/upconv_7: pre-pad p = 18 (cunet x2), 28 (cunet scale 1), 7 (upconv_7), bottom/
  right up to a multiple of 2 (x2) or 4 (scale 1), replicate border; out = graph[:h*s, :w*s].
Real-ESRGAN (animevideov3, x4plus-anime): the peer pads 10 px by reflection and crops
  10*scale; the graph itself keeps the size (zero-padded 3x3 convolutions), Interp inside.

Pixel values: the graph sees RGB float = u8 * (1/255); the peers write
  u8 = trunc(clamp(v * 255 + 0.5)), with v the graph output (+ the input for Real-CUGAN x4).
"""
import os

import numpy as np
import torch

import ncnn_ref as R

PACKAGE = os.environ.get('WAIFU2X_PACKAGE', '/work/cache/waifu2x-1.6.5/package')


def _models():
    m = {}
    cugan = 'real-cugan/models-se'
    for s, noises in ((2, ['conservative', 'no-denoise', 'denoise1x', 'denoise2x', 'denoise3x']),
                      (3, ['conservative', 'no-denoise', 'denoise3x']),
                      (4, ['conservative', 'no-denoise', 'denoise3x'])):
        for n in noises:
            noise = {'conservative': -1, 'no-denoise': 0}.get(n, int(n[7:8]) if n.startswith('denoise') else None)
            m[f'realcugan-x{s}-{n}'] = dict(family='realcugan', dir=cugan, stem=f'up{s}x-{n}', scale=s,
                                            noise=noise, prepad={2: 18, 3: 14, 4: 19}[s],
                                            multiple={2: 2, 3: 4, 4: 2}[s], border='reflect',
                                            input='in0', output='out0')
    cunet = 'waifu2x/models-cunet'
    m['waifu2x-cunet-x2'] = dict(family='waifu2x-cunet', dir=cunet, stem='scale2.0x_model', scale=2,
                                 noise=-1, prepad=18, multiple=2)
    for n in range(4):
        m[f'waifu2x-cunet-x2-noise{n}'] = dict(family='waifu2x-cunet', dir=cunet,
                                               stem=f'noise{n}_scale2.0x_model', scale=2, noise=n,
                                               prepad=18, multiple=2)
    for n in range(4):
        m[f'waifu2x-cunet-noise{n}'] = dict(family='waifu2x-cunet', dir=cunet, stem=f'noise{n}_model',
                                            scale=1, noise=n, prepad=28, multiple=4)
    up7 = 'waifu2x/models-upconv_7_anime_style_art_rgb'
    m['waifu2x-upconv7-x2'] = dict(family='waifu2x-upconv7', dir=up7, stem='scale2.0x_model', scale=2,
                                   noise=-1, prepad=7, multiple=2)
    for n in range(4):
        m[f'waifu2x-upconv7-x2-noise{n}'] = dict(family='waifu2x-upconv7', dir=up7,
                                                 stem=f'noise{n}_scale2.0x_model', scale=2, noise=n,
                                                 prepad=7, multiple=2)
    for k, v in m.items():
        if v['family'].startswith('waifu2x'):
            v.update(border='replicate', input='Input1', output='Eltwise4')
    esr = 'real-esrgan/models'
    for s in (2, 3, 4):
        m[f'realesr-animevideov3-x{s}'] = dict(family='realesrgan', dir=esr,
                                               stem=f'realesr-animevideov3-x{s}', scale=s, noise=None,
                                               prepad=10, multiple=1, border='reflect',
                                               input='data', output='output')
    m['realesrgan-x4plus-anime'] = dict(family='realesrgan', dir=esr, stem='realesrgan-x4plus-anime',
                                        scale=4, noise=None, prepad=10, multiple=1, border='reflect',
                                        input='data', output='output')
    for k, v in m.items():
        v['name'] = k
        v['param'] = f"{v['dir']}/{v['stem']}.param"
        v['bin'] = f"{v['dir']}/{v['stem']}.bin"
    return m


MODELS = _models()

_nets = {}


def model_dirs():
    """yamiro's model cache folders, where scripts/fetch-models.sh installs NAME.param/.bin."""
    dirs = []
    if os.environ.get('YAMIRO_MODELS'):
        dirs.append(os.environ['YAMIRO_MODELS'])
    if os.environ.get('XDG_CACHE_HOME'):
        dirs.append(os.path.join(os.environ['XDG_CACHE_HOME'], 'yamiro', 'models'))
    elif os.environ.get('HOME'):
        dirs.append(os.path.join(os.environ['HOME'], '.cache', 'yamiro', 'models'))
    return dirs


def model_files(name, package=PACKAGE):
    """(param, bin) of a model: in the unpacked package, else installed under its name in
    yamiro's model cache; None if neither has it."""
    m = MODELS[name]
    cands = [(os.path.join(package, m['param']), os.path.join(package, m['bin']))]
    cands += [(os.path.join(d, name + '.param'), os.path.join(d, name + '.bin')) for d in model_dirs()]
    for p, b in cands:
        if os.path.isfile(p) and os.path.isfile(b):
            return p, b
    return None


def load(name, package=PACKAGE):
    key = (name, package)
    if key not in _nets:
        files = model_files(name, package)
        if files is None:
            raise R.NcnnError(f"{name}: not in {package} nor installed (scripts/fetch-models.sh {name})")
        _nets.clear()  # one network at a time keeps memory low
        _nets[key] = R.Net(*files)
    return _nets[key]


def to_float(u8_hwc):
    """u8 HxWx3 RGB -> float32 3xHxW, u8 * (1/255) as the peers do."""
    t = torch.from_numpy(np.ascontiguousarray(u8_hwc)).permute(2, 0, 1).float()
    return t * np.float32(1.0 / 255.0)


def graph_input(name, u8_hwc):
    """The padded tile the peer feeds to the graph for a whole image (one tile), still u8
    (reflect/replicate padding of u8 values is exact). Returns (u8 HxWx3, pads t,b,l,r)."""
    m = MODELS[name]
    h, w = u8_hwc.shape[:2]
    p, mult = m['prepad'], m['multiple']
    if m['family'] == 'realesrgan':
        t = b = l = r = p
    else:
        t = l = p
        b = p + (-h) % mult
        r = p + (-w) % mult
    mode = {'reflect': 'reflect', 'replicate': 'edge'}[m['border']]
    if m['border'] == 'reflect' and (max(t, b) >= h or max(l, r) >= w):
        raise ValueError(f"{name}: image {w}x{h} too small for a {p}px reflect border")
    return np.pad(u8_hwc, ((t, b), (l, r), (0, 0)), mode=mode), (t, b, l, r)


def run_graph(name, x_chw, package=PACKAGE):
    m = MODELS[name]
    net = load(name, package)
    return net.run({m['input']: x_chw}, [m['output']])[m['output']]


def upscale(name, u8_hwc, package=PACKAGE):
    """The family pipeline on a whole image: returns the float output 3x(h*s)x(w*s) in the
    0..255 range, before the peers' +0.5 / truncation / clamping."""
    m = MODELS[name]
    s = m['scale']
    h, w = u8_hwc.shape[:2]
    padded, (t, b, l, r) = graph_input(name, u8_hwc)
    x = to_float(padded)
    y = run_graph(name, x, package)
    if m['family'] == 'realesrgan':
        y = y[:, t * s:t * s + h * s, l * s:l * s + w * s]
    else:
        if y.shape[1] < h * s or y.shape[2] < w * s:
            raise R.NcnnError(f"{name}: graph output {tuple(y.shape)} smaller than {h * s}x{w * s}")
        y = y[:, :h * s, :w * s]
    y = y * 255.0
    if m['family'] == 'realcugan' and s == 4:
        src = x[:, t:t + h, l:l + w] * 255.0
        y = y + src.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)
    return y


def to_u8(y):
    """The peers' conversion: trunc(v + 0.5), clamped to 0..255; returns HxWx3 RGB u8."""
    v = torch.clamp(torch.trunc(y + 0.5), 0, 255)
    return v.permute(1, 2, 0).to(torch.uint8).numpy()
