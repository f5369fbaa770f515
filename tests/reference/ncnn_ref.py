#!/usr/bin/python3
"""A small ncnn graph interpreter in eager PyTorch (fp32), written as the reference that
yamiro's C++ graph executor is checked against (issue 13).

Blobs are torch tensors shaped like ncnn Mats, outermost axis first and without a batch
axis: dims 1 = (w,), 2 = (h, w), 3 = (c, h, w), 4 = (c, d, h, w). With that layout ncnn's
axis numbers (Concat, Softmax, Crop axes, ...) are the tensor's dimension numbers.

Semantics follow ncnn's reference (non-SIMD) CPU layers as of the 2025 sources
(src/layer/*.cpp, src/paramdict.cpp, src/modelbin.cpp); the code here is an independent
rewrite. Only what can be checked is claimed: see docs/ncnn-models.md for which layers the
29 shipped models exercise and tests/reference/test_ncnn_ref.py for the layer self-tests.

Usage as a tool:
  ncnn_ref.py MODEL.param [MODEL.bin] --info        layer types, params, weight tags
"""
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

PARAM_MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38
TAG_FP32_RAW = 0x0002C056


class NcnnError(Exception):
    pass


# ----------------------------------------------------------------------------------------
# .param
# ----------------------------------------------------------------------------------------

def _is_float_token(tok):
    return any(ch == '.' or ch in 'eE' for ch in tok)


def _parse_number(tok, where):
    try:
        if _is_float_token(tok):
            return float(np.float32(float(tok)))
        return int(tok)
    except ValueError:
        raise NcnnError(f"{where}: bad number '{tok}'")


def parse_param_tokens(tokens, where):
    """Parses 'k=v' tokens of one layer line into {id: value}.

    Values: int, float, list (old '-233xx=n,a,b' or new 'k=a,b') or str ('k=abc', 'k="a b"').
    Array keys <= -23300 are stored under id = -key - 23300, as ncnn does."""
    params = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if '=' not in tok:
            raise NcnnError(f"{where}: expected key=value, got '{tok}'")
        key_s, val = tok.split('=', 1)
        try:
            key = int(key_s)
        except ValueError:
            raise NcnnError(f"{where}: bad key '{key_s}'")
        old_array = key <= -23300
        if old_array:
            key = -key - 23300
        if key < 0 or key >= 32:
            raise NcnnError(f"{where}: param id {key} out of range")
        if old_array:
            parts = val.split(',')
            n = _parse_number(parts[0], where)
            if not isinstance(n, int) or n < 0 or len(parts) - 1 != n:
                raise NcnnError(f"{where}: array {key_s} says {parts[0]} values, has {len(parts) - 1}")
            params[key] = [_parse_number(p, where) for p in parts[1:]]
            continue
        if val[:1].isalpha() or val[:1] == '"':
            # string; a quoted one may contain spaces and run over several tokens
            if val[0] == '"':
                s = val[1:]
                while not (s.endswith('"')) and i < len(tokens):
                    s += ' ' + tokens[i]
                    i += 1
                if s.endswith('"'):
                    s = s[:-1]
            else:
                s = val
            params[key] = s
            continue
        if ',' in val:
            params[key] = [_parse_number(p, where) for p in val.split(',') if p != '']
        else:
            params[key] = _parse_number(val, where)
    return params


class LayerDesc:
    def __init__(self, type_, name, bottoms, tops, params, line):
        self.type = type_
        self.name = name
        self.bottoms = bottoms
        self.tops = tops
        self.params = params
        self.line = line


def parse_param(path):
    with open(path, 'r') as f:
        lines = f.read().split('\n')
    # ncnn reads tokens with scanf, so blank lines do not matter
    rows = [(n + 1, l.split()) for n, l in enumerate(lines) if l.strip()]
    if not rows or rows[0][1][0] != str(PARAM_MAGIC):
        raise NcnnError(f"{path}: not an ncnn param file (magic {PARAM_MAGIC} missing)")
    if len(rows) < 2 or len(rows[1][1]) != 2:
        raise NcnnError(f"{path}: line 2 must be 'layer_count blob_count'")
    layer_count, blob_count = (int(x) for x in rows[1][1])
    if layer_count <= 0 or blob_count <= 0:
        raise NcnnError(f"{path}: invalid layer_count or blob_count")
    layers = []
    for lineno, toks in rows[2:]:
        where = f"{path}:{lineno}"
        if len(toks) < 4:
            raise NcnnError(f"{where}: short layer line")
        type_, name = toks[0], toks[1]
        nb, nt = int(toks[2]), int(toks[3])
        if len(toks) < 4 + nb + nt:
            raise NcnnError(f"{where}: fewer blob names than {nb}+{nt}")
        bottoms = toks[4:4 + nb]
        tops = toks[4 + nb:4 + nb + nt]
        params = parse_param_tokens(toks[4 + nb + nt:], where)
        layers.append(LayerDesc(type_, name, bottoms, tops, params, lineno))
    if len(layers) != layer_count:
        raise NcnnError(f"{path}: header says {layer_count} layers, file has {len(layers)}")
    return layers, blob_count


# ----------------------------------------------------------------------------------------
# .bin
# ----------------------------------------------------------------------------------------

class ModelBin:
    """Reads weights in the order layers ask for them, as ncnn's ModelBinFromDataReader."""

    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.tags = []  # (layer name, count, tag name) for --info

    def _take(self, nbytes):
        if nbytes < 0 or self.pos + nbytes > len(self.data):
            raise NcnnError(f".bin too short: need {nbytes} bytes at offset {self.pos}, "
                            f"file has {len(self.data)}")
        b = self.data[self.pos:self.pos + nbytes]
        self.pos += nbytes
        return b

    def load(self, n, type_, who=''):
        """type 0: 4-byte tag then data; type 1: raw fp32. Returns a float32 tensor (n,)
        (int8 tags return int8 values as float32, the caller applies its scales)."""
        if n < 0:
            raise NcnnError(f"{who}: negative weight count {n}")
        if type_ == 1:
            arr = np.frombuffer(self._take(4 * n), dtype='<f4').copy()
            self.tags.append((who, n, 'raw'))
            return torch.from_numpy(arr)
        tag_bytes = self._take(4)
        tag = struct.unpack('<I', tag_bytes)[0]
        flag = sum(tag_bytes)
        if tag == TAG_FP16:
            size = (2 * n + 3) // 4 * 4
            arr = np.frombuffer(self._take(size)[:2 * n], dtype='<f2').astype(np.float32)
            self.tags.append((who, n, 'fp16'))
        elif tag == TAG_INT8:
            size = (n + 3) // 4 * 4
            arr = np.frombuffer(self._take(size)[:n], dtype=np.int8).astype(np.float32)
            self.tags.append((who, n, 'int8'))
        elif tag == TAG_FP32_RAW:
            arr = np.frombuffer(self._take(4 * n), dtype='<f4').copy()
            self.tags.append((who, n, 'fp32-raw-tag'))
        elif flag != 0:
            table = np.frombuffer(self._take(256 * 4), dtype='<f4')
            size = (n + 3) // 4 * 4
            idx = np.frombuffer(self._take(size)[:n], dtype=np.uint8)
            arr = table[idx].astype(np.float32)
            self.tags.append((who, n, 'codebook'))
        else:
            arr = np.frombuffer(self._take(4 * n), dtype='<f4').copy()
            self.tags.append((who, n, 'fp32'))
        return torch.from_numpy(np.ascontiguousarray(arr))


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def P(params, key, default):
    return params.get(key, default)


def activation(x, act_type, act_params):
    """ncnn's fused activation (fused_activation.h activation_ss)."""
    if act_type == 0:
        return x
    if act_type == 1:
        return torch.clamp_min(x, 0.0)
    if act_type == 2:
        slope = float(act_params[0])
        return torch.where(x > 0, x, x * slope)
    if act_type == 3:
        return torch.clamp(x, float(act_params[0]), float(act_params[1]))
    if act_type == 4:
        return sigmoid_ncnn(x)
    if act_type == 5:
        return x * torch.tanh(torch.log(torch.exp(x) + 1.0))
    if act_type == 6:
        return hardswish(x, float(act_params[0]), float(act_params[1]))
    raise NcnnError(f"unknown fused activation type {act_type}")


def sigmoid_ncnn(x):
    x = torch.clamp(x, -88.3762626647949, 88.3762626647949)
    return 1.0 / (1.0 + torch.exp(-x))


def hardswish(x, alpha, beta):
    lower = -beta / alpha
    upper = 1.0 / alpha + lower
    y = x * (x * alpha + beta)
    y = torch.where(x < lower, torch.zeros_like(x), y)
    return torch.where(x > upper, x, y)


def hardsigmoid(x, alpha, beta):
    lower = -beta / alpha
    upper = 1.0 / alpha + lower
    y = x * alpha + beta
    y = torch.where(x < lower, torch.zeros_like(x), y)
    return torch.where(x > upper, torch.ones_like(x), y)


def border(x, top, bottom, left, right, mode, value=0.0):
    """copy_make_border on a 3-D (c,h,w) or 2-D blob; mode 0 constant, 1 replicate,
    2 reflect (ncnn's reflect does not repeat the edge pixel, as PyTorch's 'reflect')."""
    if top == bottom == left == right == 0:
        return x
    if min(top, bottom, left, right) < 0:
        raise NcnnError("negative padding")
    squeeze = x.dim() == 2
    if squeeze:
        x = x.unsqueeze(0)
    if mode == 0:
        y = F.pad(x, (left, right, top, bottom), mode='constant', value=value)
    elif mode == 1:
        y = F.pad(x.unsqueeze(0), (left, right, top, bottom), mode='replicate')[0]
    elif mode == 2:
        if max(top, bottom) >= x.shape[-2] or max(left, right) >= x.shape[-1]:
            raise NcnnError("reflect padding wider than the blob")
        y = F.pad(x.unsqueeze(0), (left, right, top, bottom), mode='reflect')[0]
    else:
        raise NcnnError(f"unknown border type {mode}")
    return y[0] if squeeze else y


def need_dims(x, dims, who):
    if x.dim() not in dims:
        raise NcnnError(f"{who}: input has {x.dim()} dims, expects {dims}")


# ----------------------------------------------------------------------------------------
# layers
# ----------------------------------------------------------------------------------------

class Layer:
    weights = ()

    def __init__(self, desc):
        self.desc = desc
        self.name = desc.name
        self.p = desc.params

    def load_model(self, mb):
        pass

    def forward(self, xs):
        raise NotImplementedError


class Input(Layer):
    def forward(self, xs):
        return xs


class Noop(Layer):
    def forward(self, xs):
        return xs


class Split(Layer):
    def forward(self, xs):
        return [xs[0]] * len(self.desc.tops)


class Dropout(Layer):
    def forward(self, xs):
        s = float(P(self.p, 0, 1.0))
        return [xs[0] if s == 1.0 else xs[0] * s]


class ConvBase(Layer):
    deconv = False
    depthwise = False

    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.num_output = P(p, 0, 0)
        self.kw = P(p, 1, 0)
        self.kh = P(p, 11, self.kw)
        self.dw = P(p, 2, 1)
        self.dh = P(p, 12, self.dw)
        self.sw = P(p, 3, 1)
        self.sh = P(p, 13, self.sw)
        self.pl = P(p, 4, 0)
        self.pr = P(p, 15, self.pl)
        self.pt = P(p, 14, self.pl)
        self.pb = P(p, 16, self.pt)
        self.bias_term = P(p, 5, 0)
        self.weight_size = P(p, 6, 0)
        self.group = P(p, 7, 1) if self.depthwise else 1
        self.act = P(p, 9, 0)
        self.act_params = P(p, 10, [])
        if not isinstance(self.act_params, list):
            self.act_params = [self.act_params]
        if self.deconv:
            self.out_pad_r = P(p, 18, 0)
            self.out_pad_b = P(p, 19, self.out_pad_r)
            self.out_w = P(p, 20, 0)
            self.out_h = P(p, 21, self.out_w)
            self.int8 = 0
            self.dynamic = P(p, 28, 0)
        else:
            self.pad_value = float(P(p, 18, 0.0))
            self.int8 = P(p, 8, 0)
            self.dynamic = P(p, 19, 0)
        if self.dynamic:
            raise NcnnError(f"{desc.type} {desc.name}: dynamic weights are not supported")
        if self.num_output <= 0 or self.kw <= 0 or self.kh <= 0 or self.group <= 0:
            raise NcnnError(f"{desc.type} {desc.name}: bad num_output/kernel/group")
        maxk = self.kw * self.kh
        if self.weight_size % (maxk * self.num_output) != 0 and not self.depthwise:
            raise NcnnError(f"{desc.type} {desc.name}: weight count {self.weight_size} is not "
                            f"num_output*k*k*inch")
        self.num_input = self.weight_size // maxk // self.num_output * self.group

    def load_model(self, mb):
        self.weight = mb.load(self.weight_size, 0, self.name)
        self.bias = mb.load(self.num_output, 1, self.name) if self.bias_term else None
        if self.int8:
            # dequantise the int8 weights; activations stay fp32 (ncnn would quantise them)
            if self.depthwise and self.int8 in (2, 102):
                wscale = mb.load(1, 1, self.name).repeat(self.group)
                mb.load(1, 1, self.name)
            else:
                wscale = mb.load(self.group if self.depthwise else self.num_output, 1, self.name)
                mb.load(1, 1, self.name)
            if self.int8 > 100:
                mb.load(1, 1, self.name)
            w = self.weight.view(wscale.numel(), -1)
            scale = torch.where(wscale == 0, torch.ones_like(wscale), wscale)
            self.weight = (w / scale.view(-1, 1)).reshape(-1)

    def forward(self, xs):
        x = xs[0]
        if x.dim() == 1 and self.kw == 1 and self.kh == 1 and not self.deconv and not self.depthwise:
            # ncnn runs a 1x1 convolution on a flat blob as InnerProduct
            w = self.weight.view(self.num_output, -1)
            y = w @ x + (self.bias if self.bias is not None else 0)
            return [activation(y, self.act, self.act_params)]
        need_dims(x, (3,), f"{self.desc.type} {self.name}")
        c = x.shape[0]
        if c != self.num_input:
            raise NcnnError(f"{self.desc.type} {self.name}: input has {c} channels, weights "
                            f"expect {self.num_input}")
        return [self.run(x)]


class Convolution(ConvBase):
    def padded(self, x):
        kew = self.dw * (self.kw - 1) + 1
        keh = self.dh * (self.kh - 1) + 1
        pl, pr, pt, pb = self.pl, self.pr, self.pt, self.pb
        h, w = x.shape[-2], x.shape[-1]
        if pl > 0 or pr > 0 or pt > 0 or pb > 0:
            return F.pad(x, (pl, pr, pt, pb), value=self.pad_value)
        if pl == pr == pt == pb == -233 or pl == pr == pt == pb == -234:
            wpad = kew + (w - 1) // self.sw * self.sw - w
            hpad = keh + (h - 1) // self.sh * self.sh - h
            if wpad > 0 or hpad > 0:
                if pl == -233:
                    t, l = hpad // 2, wpad // 2
                else:
                    t, l = hpad - hpad // 2, wpad - wpad // 2
                return F.pad(x, (l, wpad - l, t, hpad - t), value=self.pad_value)
        return x

    def run(self, x):
        x = self.padded(x)
        kew = self.dw * (self.kw - 1) + 1
        keh = self.dh * (self.kh - 1) + 1
        if x.shape[-1] < kew or x.shape[-2] < keh:
            raise NcnnError(f"{self.desc.type} {self.name}: input {tuple(x.shape)} smaller than "
                            f"the kernel")
        g = self.group
        w = self.weight.view(self.num_output, self.num_input // g, self.kh, self.kw)
        y = F.conv2d(x.unsqueeze(0), w, self.bias, stride=(self.sh, self.sw),
                     dilation=(self.dh, self.dw), groups=g)[0]
        return activation(y, self.act, self.act_params)


class ConvolutionDepthWise(Convolution):
    depthwise = True

    def __init__(self, desc):
        super().__init__(desc)
        maxk = self.kw * self.kh
        g = self.group
        if self.num_output % g != 0 or self.weight_size % maxk != 0:
            raise NcnnError(f"{desc.type} {desc.name}: num_output/weights do not fit group {g}")
        # weight_size = maxk * inch/g * outch/g * g
        self.num_input = self.weight_size // maxk * g // self.num_output


class Deconvolution(ConvBase):
    deconv = True

    def run(self, x):
        g = self.group
        inch = x.shape[0]
        outch = self.num_output
        # ncnn stores deconvolution weights (group, outch/g, inch/g, kh, kw); PyTorch wants
        # (inch, outch/g, kh, kw)
        w = self.weight.view(g, outch // g, inch // g, self.kh, self.kw)
        w = w.permute(0, 2, 1, 3, 4).reshape(inch, outch // g, self.kh, self.kw)
        y = F.conv_transpose2d(x.unsqueeze(0), w, self.bias, stride=(self.sh, self.sw),
                               dilation=(self.dh, self.dw), groups=g)[0]
        h, wd = y.shape[-2], y.shape[-1]
        if self.out_pad_r or self.out_pad_b:
            # output_pad extends the full output; the extra cells get only the bias
            extra = F.pad(y, (0, self.out_pad_r, 0, self.out_pad_b))
            if self.bias is not None:
                b = self.bias.view(-1, 1, 1)
                extra[:, h:, :] = b
                extra[:, :, wd:] = b
            y = extra
        y = activation(y, self.act, self.act_params)
        pl, pr, pt, pb = self.pl, self.pr, self.pt, self.pb
        if pl > 0 or pr > 0 or pt > 0 or pb > 0:
            y = y[:, pt:y.shape[1] - pb, pl:y.shape[2] - pr]
        elif self.out_w > 0 and self.out_h > 0:
            wcut = y.shape[2] - self.out_w
            hcut = y.shape[1] - self.out_h
            if -233 in (pl, pr, pt, pb):
                t, l = hcut // 2, wcut // 2
            elif -234 in (pl, pr, pt, pb):
                t, l = hcut - hcut // 2, wcut - wcut // 2
            else:
                # ncnn leaves the output unset here (an error), so do we
                raise NcnnError(f"{self.desc.type} {self.name}: output size {self.out_w}x{self.out_h} "
                                f"needs pads -233 or -234")
            y = y[:, t:y.shape[1] - (hcut - t), l:y.shape[2] - (wcut - l)]
        if y.shape[1] <= 0 or y.shape[2] <= 0:
            raise NcnnError(f"{self.desc.type} {self.name}: empty output")
        return y


class DeconvolutionDepthWise(Deconvolution):
    depthwise = True

    def __init__(self, desc):
        super().__init__(desc)
        maxk = self.kw * self.kh
        g = self.group
        if self.num_output % g != 0:
            raise NcnnError(f"{desc.type} {desc.name}: num_output does not fit group {g}")
        self.num_input = self.weight_size // maxk * g // self.num_output


class Pooling(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.type_ = P(p, 0, 0)
        self.kw = P(p, 1, 0)
        self.kh = P(p, 11, self.kw)
        self.sw = P(p, 2, 1)
        self.sh = P(p, 12, self.sw)
        self.pl = P(p, 3, 0)
        self.pr = P(p, 14, self.pl)
        self.pt = P(p, 13, self.pl)
        self.pb = P(p, 15, self.pt)
        self.global_ = P(p, 4, 0)
        self.pad_mode = P(p, 5, 0)
        self.include_pad = P(p, 6, 0)
        self.adaptive = P(p, 7, 0)
        self.out_w = P(p, 8, 0)
        self.out_h = P(p, 18, self.out_w)
        if self.type_ not in (0, 1):
            raise NcnnError(f"Pooling {desc.name}: unknown pooling type {self.type_}")

    def forward(self, xs):
        x = xs[0]
        need_dims(x, (3,), f"Pooling {self.name}")
        c, h, w = x.shape
        if self.global_:
            flat = x.reshape(c, -1)
            if self.type_ == 0:
                return [flat.max(dim=1).values]
            return [flat.sum(dim=1) / (h * w)]
        if self.adaptive:
            ow = w if self.out_w == -233 else self.out_w
            oh = h if self.out_h == -233 else self.out_h
            if ow == w and oh == h:
                return [x]
            out = torch.empty(c, oh, ow)
            for i in range(oh):
                ih0, ih1 = h * i // oh, (h * (i + 1) + oh - 1) // oh
                for j in range(ow):
                    iw0, iw1 = w * j // ow, (w * (j + 1) + ow - 1) // ow
                    win = x[:, ih0:ih1, iw0:iw1].reshape(c, -1)
                    out[:, i, j] = win.max(dim=1).values if self.type_ == 0 else \
                        win.sum(dim=1) / (ih1 - ih0) / (iw1 - iw0)
            return [out]
        kw, kh, sw, sh = self.kw, self.kh, self.sw, self.sh
        pl, pr, pt, pb = self.pl, self.pr, self.pt, self.pb
        padv = -3.4028234663852886e38 if self.type_ == 0 else 0.0
        wtail = htail = 0
        if self.pad_mode == 0:
            wt = (w + pl + pr - kw) % sw
            ht = (h + pt + pb - kh) % sh
            wtail = sw - wt if wt else 0
            htail = sh - ht if ht else 0
            t, b, l, r = pt, pb + htail, pl, pr + wtail
        elif self.pad_mode == 1:
            t, b, l, r = pt, pb, pl, pr
        elif self.pad_mode in (2, 3):
            wpad = kw + (w - 1) // sw * sw - w
            hpad = kh + (h - 1) // sh * sh - h
            if wpad > 0 or hpad > 0:
                if self.pad_mode == 2:
                    t, l = hpad // 2, wpad // 2
                else:
                    t, l = hpad - hpad // 2, wpad - wpad // 2
                b, r = hpad - t, wpad - l
            else:
                t = b = l = r = 0
        else:
            raise NcnnError(f"Pooling {self.name}: unknown pad mode {self.pad_mode}")
        xb = F.pad(x, (l, r, t, b), value=padv) if (t or b or l or r) else x
        hb, wb = xb.shape[1], xb.shape[2]
        if hb < kh or wb < kw:
            raise NcnnError(f"Pooling {self.name}: input smaller than the kernel")
        if self.type_ == 0:
            return [F.max_pool2d(xb.unsqueeze(0), (kh, kw), (sh, sw))[0]]
        s = F.avg_pool2d(xb.unsqueeze(0), (kh, kw), (sh, sw), divisor_override=1)[0]
        if self.include_pad:
            return [s / (kw * kh)]
        # ncnn counts the cells inside [pad_top, hb - pad_bottom - htail) x
        # [pad_left, wb - pad_right - wtail) (the param pads, not the SAME ones)
        mask = torch.zeros(1, 1, hb, wb)
        mask[:, :, pt:max(pt, hb - pb - htail), pl:max(pl, wb - pr - wtail)] = 1
        area = F.avg_pool2d(mask, (kh, kw), (sh, sw), divisor_override=1)[0]
        return [s / area]


class InnerProduct(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.num_output = P(p, 0, 0)
        self.bias_term = P(p, 1, 0)
        self.weight_size = P(p, 2, 0)
        self.int8 = P(p, 8, 0)
        self.act = P(p, 9, 0)
        self.act_params = P(p, 10, [])
        if not isinstance(self.act_params, list):
            self.act_params = [self.act_params]
        if self.num_output <= 0 or self.weight_size % self.num_output:
            raise NcnnError(f"InnerProduct {desc.name}: weight count {self.weight_size} is not a "
                            f"multiple of num_output {self.num_output}")
        self.num_input = self.weight_size // self.num_output

    def load_model(self, mb):
        self.weight = mb.load(self.weight_size, 0, self.name).view(self.num_output, self.num_input)
        self.bias = mb.load(self.num_output, 1, self.name) if self.bias_term else None
        if self.int8:
            wscale = mb.load(self.num_output, 1, self.name)
            mb.load(1, 1, self.name)
            scale = torch.where(wscale == 0, torch.ones_like(wscale), wscale)
            self.weight = self.weight / scale.view(-1, 1)

    def forward(self, xs):
        x = xs[0]
        if x.dim() == 2 and x.shape[1] == self.num_input:
            y = x @ self.weight.t()
        else:
            if x.numel() != self.num_input:
                raise NcnnError(f"InnerProduct {self.name}: input has {x.numel()} values, "
                                f"weights expect {self.num_input}")
            y = self.weight @ x.reshape(-1)
        if self.bias is not None:
            y = y + self.bias
        return [activation(y, self.act, self.act_params)]


def _binary(op, a, b):
    if op == 0: return a + b
    if op == 1: return a - b
    if op == 2: return a * b
    if op == 3: return a / b
    if op == 4: return torch.maximum(a, b)
    if op == 5: return torch.minimum(a, b)
    if op == 6: return torch.pow(a, b)
    if op == 7: return b - a
    if op == 8: return b / a
    if op == 9: return torch.pow(b, a)
    if op == 10: return torch.atan2(a, b)
    if op == 11: return torch.atan2(b, a)
    if op == 12: return torch.fmod(a, b)
    if op == 13: return torch.fmod(b, a)
    if op == 14:
        mx, mn = torch.maximum(a, b), torch.minimum(a, b)
        return mx + torch.log1p(torch.exp(mn - mx))
    if op == 15: return torch.floor(a / b)
    if op == 16: return torch.floor(b / a)
    if op == 17: return _remainderf(a, b)
    if op == 18: return _remainderf(b, a)
    raise NcnnError(f"BinaryOp: unknown op type {op}")


def _remainderf(a, b):
    # C remainderf: a - n*b with n = a/b rounded to nearest, ties to even
    a, b = a.double(), b.double()
    return (a - torch.round(a / b) * b).float()


def ncnn_broadcast_shapes(a, b):
    """ncnn's 'expand inner axes' rule: the lower-rank operand gets trailing size-1 axes,
    except a 1-D operand whose length matches the other's outermost axis, which is placed
    on that axis (and a 1-D against 2-D matching h)."""
    def expand(x, other):
        nd = other.dim()
        if x.dim() >= nd:
            return x
        if x.dim() == 1:
            n = x.shape[0]
            if n == other.shape[0]:       # matches h (2-D) or c (3-D/4-D)
                return x.view([n] + [1] * (nd - 1))
            return x.view([1] * (nd - 1) + [n])  # matches w
        return x.view(list(x.shape) + [1] * (nd - x.dim()))
    A = expand(a, b)
    B = expand(b, a)
    for sa, sb in zip(A.shape, B.shape):
        if sa != sb and sa != 1 and sb != 1:
            raise NcnnError(f"BinaryOp: shapes {tuple(a.shape)} and {tuple(b.shape)} do not "
                            f"broadcast")
    return A, B


class BinaryOp(Layer):
    def forward(self, xs):
        op = P(self.p, 0, 0)
        if P(self.p, 1, 0):
            return [_binary(op, xs[0], torch.tensor(float(P(self.p, 2, 0.0))))]
        a, b = ncnn_broadcast_shapes(xs[0], xs[1])
        return [_binary(op, a, b)]


class UnaryOp(Layer):
    def forward(self, xs):
        x = xs[0]
        op = P(self.p, 0, 0)
        fns = {
            0: torch.abs, 1: torch.neg, 2: torch.floor, 3: torch.ceil,
            4: lambda v: v * v, 5: torch.sqrt, 6: torch.rsqrt, 7: torch.exp, 8: torch.log,
            9: torch.sin, 10: torch.cos, 11: torch.tan, 12: torch.asin, 13: torch.acos,
            14: torch.atan, 15: lambda v: 1.0 / v, 16: torch.tanh, 17: torch.log10,
            18: torch.round,  # nearbyint, ties to even, as torch.round
            19: torch.trunc, 20: torch.sign, 21: torch.expm1, 22: torch.sinh, 23: torch.asinh,
            24: torch.cosh, 25: torch.acosh, 26: torch.atanh, 27: torch.log1p,
        }
        if op not in fns:
            raise NcnnError(f"UnaryOp {self.name}: unknown op type {op}")
        return [fns[op](x)]


class Eltwise(Layer):
    def forward(self, xs):
        op = P(self.p, 0, 0)
        coeffs = P(self.p, 1, [])
        if not isinstance(coeffs, list):
            coeffs = [coeffs]
        for x in xs[1:]:
            if x.shape != xs[0].shape:
                raise NcnnError(f"Eltwise {self.name}: shapes {tuple(xs[0].shape)} and "
                                f"{tuple(x.shape)} differ")
        if op == 0:
            y = xs[0] * xs[1]
            for x in xs[2:]:
                y = y * x
        elif op == 1:
            if not coeffs:
                y = xs[0] + xs[1]
                for x in xs[2:]:
                    y = y + x
            else:
                if len(coeffs) < len(xs):
                    raise NcnnError(f"Eltwise {self.name}: {len(coeffs)} coefficients for "
                                    f"{len(xs)} inputs")
                y = xs[0] * float(coeffs[0]) + xs[1] * float(coeffs[1])
                for x, cf in zip(xs[2:], coeffs[2:]):
                    y = y + x * float(cf)
        elif op == 2:
            y = torch.maximum(xs[0], xs[1])
            for x in xs[2:]:
                y = torch.maximum(y, x)
        else:
            raise NcnnError(f"Eltwise {self.name}: unknown op type {op}")
        return [y]


class Scale(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        self.size = P(self.p, 0, 0)
        self.bias_term = P(self.p, 1, 0)
        self.scale = self.bias = None

    def load_model(self, mb):
        if self.size == -233:
            self.scale = self.bias = None
            return
        self.scale = mb.load(self.size, 1, self.name)
        self.bias = mb.load(self.size, 1, self.name) if self.bias_term else None

    def forward(self, xs):
        x = xs[0]
        s = xs[1].reshape(-1) if self.size == -233 else self.scale
        n = x.shape[0]
        if s.numel() != n:
            raise NcnnError(f"Scale {self.name}: {s.numel()} scales for outer axis {n}")
        shape = [n] + [1] * (x.dim() - 1)
        y = x * s.view(shape)
        if self.bias is not None:
            y = y + self.bias.view(shape)
        return [y]


class Concat(Layer):
    def forward(self, xs):
        axis = P(self.p, 0, 0)
        dims = xs[0].dim()
        ax = axis + dims if axis < 0 else axis
        if not 0 <= ax < dims:
            raise NcnnError(f"Concat {self.name}: axis {axis} for {dims}-d blobs")
        return [torch.cat(xs, dim=ax)]


class Slice(Layer):
    def forward(self, xs):
        x = xs[0]
        slices = P(self.p, 0, [])
        axis = P(self.p, 1, 0)
        ax = axis + x.dim() if axis < 0 else axis
        n = x.shape[ax]
        tops = len(self.desc.tops)
        if not isinstance(slices, list):
            slices = [slices]
        outs, q = [], 0
        for i in range(tops):
            s = slices[i] if i < len(slices) else -233
            if s == -233:
                s = (n - q) // (tops - i)
            outs.append(x.narrow(ax, q, s))
            q += s
        return outs


class Crop(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.wo, self.ho, self.do, self.co = P(p, 0, 0), P(p, 1, 0), P(p, 13, 0), P(p, 2, 0)
        self.ow, self.oh, self.od, self.oc = P(p, 3, 0), P(p, 4, 0), P(p, 14, 0), P(p, 5, 0)
        self.wo2, self.ho2, self.do2, self.co2 = P(p, 6, 0), P(p, 7, 0), P(p, 15, 0), P(p, 8, 0)
        self.starts = P(p, 9, [])
        self.ends = P(p, 10, [])
        self.axes = P(p, 11, [])
        for k in (19, 20, 21):
            if k in p:
                raise NcnnError(f"Crop {desc.name}: expression crops are not supported")
        self.starts = self.starts if isinstance(self.starts, list) else [self.starts]
        self.ends = self.ends if isinstance(self.ends, list) else [self.ends]
        self.axes = self.axes if isinstance(self.axes, list) else [self.axes]

    def forward(self, xs):
        x = xs[0]
        dims = x.dim()
        shape = list(x.shape)  # outermost first
        # offsets/sizes per tensor axis, outermost first
        off = [0] * dims
        size = list(shape)
        numpy_style = bool(self.starts) and bool(self.ends)
        if len(xs) == 2 and not numpy_style:
            ref = xs[1]
            if self.wo == -233:
                prm = [int(v) for v in ref.reshape(-1).tolist()]
                if dims == 1:
                    off, size = [prm[0]], [prm[3]]
                elif dims == 2:
                    off, size = [prm[1], prm[0]], [prm[4], prm[3]]
                elif dims == 3:
                    off, size = [prm[2], prm[1], prm[0]], [prm[5], prm[4], prm[3]]
                else:
                    off, size = [prm[3], prm[2], prm[1], prm[0]], [prm[7], prm[6], prm[5], prm[4]]
            else:
                rs = list(ref.shape)
                rdims = ref.dim()
                # ncnn: w, h (and d) from the reference; c only if the reference has as many dims
                woff = {1: [self.wo], 2: [self.ho, self.wo], 3: [self.co, self.ho, self.wo],
                        4: [self.co, self.do, self.ho, self.wo]}[dims]
                off = woff
                if dims == 1:
                    size = [rs[-1]]
                elif dims == 2:
                    size = [rs[-2] if rdims >= 2 else 1, rs[-1]]
                elif dims == 3:
                    size = [rs[0] if rdims == 3 else shape[0],
                            rs[-2] if rdims >= 2 else 1, rs[-1]]
                else:
                    size = [rs[0] if rdims == 4 else shape[0], rs[-3] if rdims >= 3 else 1,
                            rs[-2] if rdims >= 2 else 1, rs[-1]]
        elif numpy_style:
            axes = self.axes if self.axes else list(range(dims))
            for i, axis in enumerate(axes):
                ax = axis + dims if axis < 0 else axis
                n = shape[ax]
                start, end = self.starts[i], self.ends[i]
                if start == -233:
                    start = 0
                if end == -233:
                    end = n
                o = start if start >= 0 else n + start
                off[ax] = o
                size[ax] = min(n, end if end > 0 else n + end) - o
        else:
            offs = {1: [self.wo], 2: [self.ho, self.wo], 3: [self.co, self.ho, self.wo],
                    4: [self.co, self.do, self.ho, self.wo]}[dims]
            offs2 = {1: [self.wo2], 2: [self.ho2, self.wo2], 3: [self.co2, self.ho2, self.wo2],
                     4: [self.co2, self.do2, self.ho2, self.wo2]}[dims]
            outs = {1: [self.ow], 2: [self.oh, self.ow], 3: [self.oc, self.oh, self.ow],
                    4: [self.oc, self.od, self.oh, self.ow]}[dims]
            off = offs
            for i in range(dims):
                s = shape[i] - offs[i] - offs2[i]
                size[i] = s if outs[i] == -233 else min(outs[i], s)
        for i in range(dims):
            if off[i] < 0 or size[i] <= 0 or off[i] + size[i] > shape[i]:
                raise NcnnError(f"Crop {self.name}: region offset {off} size {size} outside "
                                f"{tuple(shape)}")
        y = x
        for i in range(dims):
            y = y.narrow(i, off[i], size[i])
        return [y.contiguous()]


def _cubic_coeffs(w, outw, align_corner):
    """ncnn's cubic_coeffs(): tap offsets and 4 weights per output column; the border is
    handled by folding the weights onto the edge taps (computed in float32 like ncnn)."""
    scale = (w - 1) / (outw - 1) if align_corner else w / outw
    A = np.float32(-0.75)
    xofs = np.zeros(outw, dtype=np.int64)
    alpha = np.zeros((outw, 4), dtype=np.float32)
    one = np.float32(1.0)
    for dx in range(outw):
        fx = np.float32(dx * scale) if align_corner else np.float32((dx + 0.5) * scale - 0.5)
        sx = int(math.floor(fx))
        fx = np.float32(fx - np.float32(sx))
        fx0 = np.float32(fx + one)
        fx1 = fx
        fx2 = np.float32(one - fx)
        c0 = A * fx0 * fx0 * fx0 - np.float32(5) * A * fx0 * fx0 + np.float32(8) * A * fx0 - np.float32(4) * A
        c1 = (A + np.float32(2)) * fx1 * fx1 * fx1 - (A + np.float32(3)) * fx1 * fx1 + one
        c2 = (A + np.float32(2)) * fx2 * fx2 * fx2 - (A + np.float32(3)) * fx2 * fx2 + one
        c3 = one - c0 - c1 - c2
        a = [np.float32(c0), np.float32(c1), np.float32(c2), np.float32(c3)]
        if sx <= -1:
            sx = 1
            a = [one - a[3], a[3], np.float32(0), np.float32(0)]
        if sx == 0:
            sx = 1
            a = [a[0] + a[1], a[2], a[3], np.float32(0)]
        if sx == w - 2:
            sx = w - 3
            a = [np.float32(0), a[0], a[1], a[2] + a[3]]
        if sx >= w - 1:
            sx = w - 3
            a = [np.float32(0), np.float32(0), a[0], one - a[0]]
        xofs[dx] = sx
        alpha[dx] = a
    return xofs, alpha


def _linear_coeffs(w, outw, align_corner):
    scale = (w - 1) / (outw - 1) if align_corner else w / outw
    xofs = np.zeros(outw, dtype=np.int64)
    alpha = np.zeros((outw, 2), dtype=np.float32)
    for dx in range(outw):
        fx = np.float32(dx * scale) if align_corner else np.float32((dx + 0.5) * scale - 0.5)
        sx = int(math.floor(fx))
        fx = np.float32(fx - np.float32(sx))
        if sx < 0:
            sx, fx = 0, np.float32(0)
        if sx >= w - 1:
            sx, fx = w - 2, np.float32(1)
        xofs[dx] = sx
        alpha[dx] = [np.float32(1) - fx, fx]
    return xofs, alpha


def interp_nearest(x, outh, outw, hs, ws):
    h, w = x.shape[-2], x.shape[-1]
    iy = [min(int(np.float32(y) * np.float32(hs)), h - 1) for y in range(outh)]
    ix = [min(int(np.float32(i) * np.float32(ws)), w - 1) for i in range(outw)]
    return x[..., iy, :][..., ix]


def _taps_h(x, xofs, alpha, ntaps, first):
    """sum_k x[..., xofs + first + k] * alpha[:, k], accumulated left to right like ncnn."""
    out = None
    for k in range(ntaps):
        idx = torch.from_numpy(xofs + first + k)
        term = x[..., idx] * torch.from_numpy(alpha[:, k].copy())
        out = term if out is None else out + term
    return out


def _taps_v(x, yofs, beta, ntaps, first):
    out = None
    for k in range(ntaps):
        idx = torch.from_numpy(yofs + first + k)
        term = x[..., idx, :] * torch.from_numpy(beta[:, k].copy()).view(-1, 1)
        out = term if out is None else out + term
    return out


def interp_resize(x, outh, outw, mode, align_corner=0, hs=None, ws=None):
    """Interp on a (c,h,w) blob: mode 1 nearest, 2 bilinear, 3 bicubic (ncnn's rules).
    hs/ws: the nearest-neighbour step (1/scale when the layer was given a scale)."""
    h, w = x.shape[-2], x.shape[-1]
    if outh == h and outw == w:
        return x
    if mode == 1:
        return interp_nearest(x, outh, outw,
                              np.float32(h) / np.float32(outh) if hs is None else hs,
                              np.float32(w) / np.float32(outw) if ws is None else ws)
    if mode == 2:
        if w < 2 or h < 2:
            raise NcnnError("bilinear Interp needs at least 2x2 input")
        xofs, alpha = _linear_coeffs(w, outw, align_corner)
        yofs, beta = _linear_coeffs(h, outh, align_corner)
        rows = _taps_h(x, xofs, alpha, 2, 0)
        return _taps_v(rows, yofs, beta, 2, 0)
    if mode == 3:
        if w < 4 or h < 4:
            raise NcnnError("bicubic Interp needs at least 4x4 input")
        xofs, alpha = _cubic_coeffs(w, outw, align_corner)
        yofs, beta = _cubic_coeffs(h, outh, align_corner)
        rows = _taps_h(x, xofs, alpha, 4, -1)
        return _taps_v(rows, yofs, beta, 4, -1)
    raise NcnnError(f"Interp: unknown resize type {mode}")


class Interp(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.mode = P(p, 0, 0)
        self.hscale = float(P(p, 1, 1.0))
        self.wscale = float(P(p, 2, 1.0))
        self.out_h = P(p, 3, 0)
        self.out_w = P(p, 4, 0)
        self.dynamic = P(p, 5, 0)
        self.align = P(p, 6, 0)
        if 9 in p:
            raise NcnnError(f"Interp {desc.name}: size expressions are not supported")
        if self.mode not in (0, 1, 2, 3):  # 0 is accepted by ncnn's load_param
            raise NcnnError(f"Interp {desc.name}: unknown resize type {self.mode}")

    def forward(self, xs):
        x = xs[0]
        mode = self.mode
        if mode == 0:
            raise NcnnError(f"Interp {self.name}: resize type 0 (ncnn leaves the output unset)")
        if self.dynamic:
            ref = xs[1]
            outw, outh = ref.shape[-1], ref.shape[-2] if ref.dim() >= 2 else 1
            given_size = True
        else:
            if x.dim() == 1:
                h, w = 1, 1
            else:
                h, w = x.shape[-2], x.shape[-1]
            outw, outh = self.out_w, self.out_h
            given_size = bool(self.out_w)
            if outw == 0 or outh == 0:
                outw = int(np.float32(w) * np.float32(self.wscale))
                outh = int(np.float32(h) * np.float32(self.hscale))
        if outw <= 0 or outh <= 0:
            raise NcnnError(f"Interp {self.name}: output size {outw}x{outh}")
        if x.dim() == 1:
            return [x.view(-1, 1, 1).expand(-1, outh, outw).contiguous()]
        if x.dim() == 2:
            # ncnn resizes only along w on a 2-d blob
            w = x.shape[1]
            if outw == w:
                return [x]
            if mode == 1:
                ws = np.float32(w) / np.float32(outw) if given_size else \
                    np.float32(1.0) / np.float32(self.wscale)
                ix = [min(int(np.float32(i) * ws), w - 1) for i in range(outw)]
                return [x[:, ix]]
            if mode == 2:
                xofs, alpha = _linear_coeffs(w, outw, self.align)
                return [_taps_h(x, xofs, alpha, 2, 0)]
            xofs, alpha = _cubic_coeffs(w, outw, self.align)
            return [_taps_h(x, xofs, alpha, 4, -1)]
        need_dims(x, (3,), f"Interp {self.name}")
        hs = ws = None
        if mode == 1:
            hs = np.float32(x.shape[1]) / np.float32(outh) if given_size else \
                np.float32(1.0) / np.float32(self.hscale)
            ws = np.float32(x.shape[2]) / np.float32(outw) if given_size else \
                np.float32(1.0) / np.float32(self.wscale)
        return [interp_resize(x, outh, outw, mode, self.align, hs, ws)]


class PixelShuffle(Layer):
    def forward(self, xs):
        x = xs[0]
        need_dims(x, (3,), f"PixelShuffle {self.name}")
        r = P(self.p, 0, 1)
        mode = P(self.p, 1, 0)
        c, h, w = x.shape
        if r <= 0 or c % (r * r):
            raise NcnnError(f"PixelShuffle {self.name}: {c} channels, factor {r}")
        oc = c // (r * r)
        if mode == 0:
            y = x.view(oc, r, r, h, w)
        else:
            y = x.view(r, r, oc, h, w).permute(2, 0, 1, 3, 4)
        return [y.permute(0, 3, 1, 4, 2).reshape(oc, h * r, w * r)]


class Padding(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.top, self.bottom, self.left, self.right = P(p, 0, 0), P(p, 1, 0), P(p, 2, 0), P(p, 3, 0)
        self.type_ = P(p, 4, 0)
        self.value = float(P(p, 5, 0.0))
        self.per_channel = P(p, 6, 0)
        self.front, self.behind = P(p, 7, 0), P(p, 8, 0)
        self.pc = None

    def load_model(self, mb):
        self.pc = mb.load(self.per_channel, 1, self.name) if self.per_channel else None

    def forward(self, xs):
        x = xs[0]
        if len(xs) == 2:
            raise NcnnError(f"Padding {self.name}: the two-input form is not supported")
        t, b, l, r, f, bh = self.top, self.bottom, self.left, self.right, self.front, self.behind
        if not (t or b or l or r or f or bh):
            return [x]
        dims = x.dim()
        if dims == 1:
            return [border(x.view(1, 1, -1), 0, 0, l, r, self.type_, self.value).view(-1)]
        if dims == 2:
            return [border(x, t, b, l, r, self.type_, self.value)]
        if dims == 4:
            raise NcnnError(f"Padding {self.name}: 4-d blobs are not supported")
        c = x.shape[0]
        outs = []
        for q in range(c + f + bh):
            v = float(self.pc[q]) if self.pc is not None else self.value
            if (q < f or q >= c + f) and self.type_ == 0:
                outs.append(torch.full((x.shape[1] + t + b, x.shape[2] + l + r), v))
                continue
            qq = q - f
            if self.type_ == 1:
                qq = min(max(qq, 0), c - 1)
            if self.type_ == 2:
                qq = abs(qq)
                qq = (c - 1) - abs(qq - (c - 1))
            outs.append(border(x[qq:qq + 1], t, b, l, r, self.type_, v)[0])
        return [torch.stack(outs)]


class ReLU(Layer):
    def forward(self, xs):
        s = float(P(self.p, 0, 0.0))
        x = xs[0]
        return [torch.clamp_min(x, 0.0) if s == 0.0 else torch.where(x < 0, x * s, x)]


class PReLU(Layer):
    def load_model(self, mb):
        self.n = P(self.p, 0, 0)
        self.slope = mb.load(self.n, 1, self.name)

    def forward(self, xs):
        x = xs[0]
        if self.n > 1:
            n = x.shape[0]
            if self.n != n:
                raise NcnnError(f"PReLU {self.name}: {self.n} slopes for outer axis {n}")
            s = self.slope.view([n] + [1] * (x.dim() - 1))
        else:
            s = self.slope[0]
        return [torch.where(x < 0, x * s, x)]


class Sigmoid(Layer):
    def forward(self, xs):
        return [1.0 / (1.0 + torch.exp(-xs[0]))]


class Clip(Layer):
    def forward(self, xs):
        lo = float(P(self.p, 0, -3.4028234663852886e38))
        hi = float(P(self.p, 1, 3.4028234663852886e38))
        return [torch.clamp(xs[0], lo, hi)]


class Swish(Layer):
    def forward(self, xs):
        x = xs[0]
        return [x / (1.0 + torch.exp(-x))]


class HardSigmoid(Layer):
    def forward(self, xs):
        return [hardsigmoid(xs[0], float(P(self.p, 0, 0.2)), float(P(self.p, 1, 0.5)))]


class HardSwish(Layer):
    def forward(self, xs):
        return [hardswish(xs[0], float(P(self.p, 0, 0.2)), float(P(self.p, 1, 0.5)))]


class Mish(Layer):
    def forward(self, xs):
        x = xs[0]
        # ncnn: y = x > 20 ? x : log(exp(x) + 1), then x * tanh(y)
        sp = torch.where(x > 20, x, torch.log(torch.exp(torch.clamp_max(x, 20)) + 1.0))
        return [x * torch.tanh(sp)]


class TanH(Layer):
    def forward(self, xs):
        return [torch.tanh(xs[0])]


class Flatten(Layer):
    def forward(self, xs):
        return [xs[0].reshape(-1)]


class Reshape(Layer):
    def __init__(self, desc):
        super().__init__(desc)
        p = self.p
        self.w, self.h, self.d, self.c = P(p, 0, -233), P(p, 1, -233), P(p, 11, -233), P(p, 2, -233)
        if 6 in p or P(p, 12, 233) != 233 or P(p, 13, 233) != 233:
            raise NcnnError(f"Reshape {desc.name}: shape expressions and batch axes are not supported")
        if P(p, 3, 0):
            raise NcnnError(f"Reshape {desc.name}: the old permute flag is not supported")
        nd = 4
        if self.d == -233: nd = 3
        if self.c == -233: nd = 2
        if self.h == -233: nd = 1
        if self.w == -233: nd = 0
        self.ndim = nd

    def forward(self, xs):
        x = xs[0]
        total = x.numel()
        s = list(x.shape)
        cur = {'w': s[-1], 'h': s[-2] if len(s) >= 2 else 1,
               'd': s[-3] if len(s) == 4 else 1, 'c': s[0] if len(s) >= 3 else 1}
        nd = self.ndim
        if nd == 0:
            raise NcnnError(f"Reshape {self.name}: no target shape")
        names = ['w', 'h', 'c', 'd'][:nd] if nd < 4 else ['w', 'h', 'd', 'c']
        vals = {'w': self.w, 'h': self.h, 'd': self.d, 'c': self.c}
        out = {}
        for k in names:
            v = vals[k]
            out[k] = cur[k] if v == 0 else v
        neg = [k for k in names if out[k] == -1]
        if len(neg) > 1:
            raise NcnnError(f"Reshape {self.name}: more than one -1")
        if neg:
            rest = 1
            for k in names:
                if k != neg[0]:
                    rest *= out[k]
            out[neg[0]] = total // rest if rest else 0
        order = {1: ['w'], 2: ['h', 'w'], 3: ['c', 'h', 'w'], 4: ['c', 'd', 'h', 'w']}[nd]
        shape = [out[k] for k in order]
        if int(np.prod(shape)) != total:
            raise NcnnError(f"Reshape {self.name}: {tuple(x.shape)} cannot become {tuple(shape)}")
        return [x.reshape(shape)]


_PERMUTE3 = ['whc', 'hwc', 'wch', 'cwh', 'hcw', 'chw']
_PERMUTE4 = ['whdc', 'hwdc', 'wdhc', 'dwhc', 'hdwc', 'dhwc', 'whcd', 'hwcd', 'wchd', 'cwhd',
             'hcwd', 'chwd', 'wdch', 'dwch', 'wcdh', 'cwdh', 'dcwh', 'cdwh', 'hdcw', 'dhcw',
             'hcdw', 'chdw', 'dchw', 'cdhw']


class Permute(Layer):
    def forward(self, xs):
        x = xs[0]
        t = P(self.p, 0, 0)
        dims = x.dim()
        if dims == 1:
            return [x]
        if dims == 2:
            if t not in (0, 1):
                raise NcnnError(f"Permute {self.name}: order {t} on a 2-d blob")
            return [x if t == 0 else x.t().contiguous()]
        table = _PERMUTE3 if dims == 3 else _PERMUTE4
        if not 0 <= t < len(table):
            raise NcnnError(f"Permute {self.name}: order {t} on a {dims}-d blob")
        axis_of = {'c': 0, 'h': 1, 'w': 2} if dims == 3 else {'c': 0, 'd': 1, 'h': 2, 'w': 3}
        # the table names the output's axes innermost first
        perm = [axis_of[a] for a in reversed(table[t])]
        return [x.permute(perm).contiguous()]


class Softmax(Layer):
    def forward(self, xs):
        x = xs[0]
        axis = P(self.p, 0, 0)
        if P(self.p, 1, 0) == 0 and axis != 0:
            raise NcnnError(f"Softmax {self.name}: param is too old (1=0 with axis != 0)")
        ax = axis + x.dim() if axis < 0 else axis
        m = x.max(dim=ax, keepdim=True).values
        e = torch.exp(x - m)
        return [e / e.sum(dim=ax, keepdim=True)]


LAYERS = {
    'Input': Input, 'Noop': Noop, 'Split': Split, 'Dropout': Dropout,
    'Convolution': Convolution, 'ConvolutionDepthWise': ConvolutionDepthWise,
    'Deconvolution': Deconvolution, 'DeconvolutionDepthWise': DeconvolutionDepthWise,
    'Pooling': Pooling, 'InnerProduct': InnerProduct, 'BinaryOp': BinaryOp,
    'UnaryOp': UnaryOp, 'Eltwise': Eltwise, 'Scale': Scale, 'Concat': Concat, 'Slice': Slice,
    'Crop': Crop, 'Interp': Interp, 'PixelShuffle': PixelShuffle, 'Padding': Padding,
    'ReLU': ReLU, 'PReLU': PReLU, 'Sigmoid': Sigmoid, 'Clip': Clip, 'Swish': Swish,
    'HardSigmoid': HardSigmoid, 'HardSwish': HardSwish, 'Mish': Mish, 'TanH': TanH,
    'Flatten': Flatten, 'Reshape': Reshape, 'Permute': Permute, 'Softmax': Softmax,
}


# ----------------------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------------------

class Net:
    def __init__(self, param_path, bin_path=None):
        self.param_path = param_path
        descs, self.blob_count = parse_param(param_path)
        self.layers = []
        produced = {}
        for d in descs:
            if d.type not in LAYERS:
                raise NcnnError(f"{param_path}:{d.line}: unknown layer type '{d.type}'")
            for b in d.bottoms:
                if b not in produced:
                    raise NcnnError(f"{param_path}:{d.line}: blob '{b}' used before it is made")
            for t in d.tops:
                if t in produced:
                    raise NcnnError(f"{param_path}:{d.line}: blob '{t}' made twice")
                produced[t] = d.name
            self.layers.append(LAYERS[d.type](d))
        if len(produced) != self.blob_count:
            raise NcnnError(f"{param_path}: header says {self.blob_count} blobs, layers make "
                            f"{len(produced)}")
        self.inputs = [l.desc.tops[0] for l in self.layers if l.desc.type == 'Input']
        used = {b for l in self.layers for b in l.desc.bottoms}
        self.outputs = [t for l in self.layers for t in l.desc.tops if t not in used]
        self.mb = None
        if bin_path is not None:
            with open(bin_path, 'rb') as f:
                data = f.read()
            self.mb = ModelBin(data)
            for l in self.layers:
                l.load_model(self.mb)
            if self.mb.pos != len(data):
                raise NcnnError(f"{bin_path}: {len(data) - self.mb.pos} bytes left after the last "
                                f"layer's weights (weight counts do not match)")

    @torch.no_grad()
    def run(self, feeds, outputs=None, keep=False):
        """feeds: {input blob name: tensor}; returns {name: tensor} for outputs (default:
        the blobs nothing consumes). keep=True returns every blob."""
        blobs = dict(feeds)
        for l in self.layers:
            d = l.desc
            if d.type == 'Input':
                if d.tops[0] not in blobs:
                    raise NcnnError(f"input '{d.tops[0]}' not fed")
                continue
            ys = l.forward([blobs[b] for b in d.bottoms])
            if len(ys) != len(d.tops):
                raise NcnnError(f"{d.type} {d.name}: made {len(ys)} outputs, param lists {len(d.tops)}")
            for t, y in zip(d.tops, ys):
                blobs[t] = y
        names = outputs or self.outputs
        return blobs if keep else {n: blobs[n] for n in names}


def info(param_path, bin_path=None):
    net = Net(param_path, bin_path)
    types = {}
    for l in net.layers:
        keys = ','.join(str(k) for k in sorted(l.p))
        types.setdefault(l.desc.type, set()).add(keys)
    print(f"{param_path}: {len(net.layers)} layers, inputs {net.inputs}, outputs {net.outputs}")
    for t, ks in sorted(types.items()):
        n = sum(1 for l in net.layers if l.desc.type == t)
        print(f"  {t:24s} x{n:<4d} param ids: {' | '.join(sorted(ks))}")
    if net.mb is not None:
        tags = {}
        for who, n, tag in net.mb.tags:
            tags[tag] = tags.get(tag, 0) + n
        print("  weights: " + ', '.join(f"{k} {v}" for k, v in sorted(tags.items())))


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--info']
    if not args:
        print(__doc__)
        sys.exit(2)
    try:
        info(args[0], args[1] if len(args) > 1 else None)
    except NcnnError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3)
