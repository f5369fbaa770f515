#!/usr/bin/python3
"""Self-tests of the reference interpreter: each layer against a plain-loop transcription
of the corresponding ncnn CPU loop (small random blobs), the .param/.bin readers on
hand-made files, and (when the package is unpacked) one golden recomputed.

  /usr/bin/python3 tests/reference/test_ncnn_ref.py      (a few seconds; ctest: ncnn_reference)
"""
import json
import math
import os
import struct
import sys
import tempfile
import unittest

try:
    import numpy as np
    import torch
except ImportError:  # Debian's python3-torch / python3-numpy missing: ctest counts 77 as skipped
    if __name__ == '__main__':
        sys.exit(77)
    raise

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ncnn_ref as R  # noqa: E402

torch.manual_seed(0)
RNG = np.random.default_rng(0)


def layer(type_, params, bottoms=1, tops=1):
    d = R.LayerDesc(type_, 'l', [f'b{i}' for i in range(bottoms)], [f't{i}' for i in range(tops)],
                    params, 1)
    return R.LAYERS[type_](d)


def with_weights(lyr, *arrays, tag='fp32'):
    """Feeds weights the way a .bin stores them: tagged (type 0) first, raw after."""
    data = b''
    for i, a in enumerate(arrays):
        a = np.asarray(a, dtype=np.float32).reshape(-1)
        if i == 0 and tag != 'raw':
            if tag == 'fp16':
                raw = a.astype('<f2').tobytes()
                data += struct.pack('<I', R.TAG_FP16) + raw + b'\0' * ((-len(raw)) % 4)
            else:
                data += struct.pack('<I', 0) + a.astype('<f4').tobytes()
        else:
            data += a.astype('<f4').tobytes()
    mb = R.ModelBin(data)
    lyr.load_model(mb)
    assert mb.pos == len(data), (mb.pos, len(data))
    return lyr


def close(test, a, b, tol=1e-5):
    a = torch.as_tensor(a, dtype=torch.float32)
    b = torch.as_tensor(b, dtype=torch.float32)
    test.assertEqual(tuple(a.shape), tuple(b.shape))
    test.assertLessEqual(float((a - b).abs().max()) if a.numel() else 0.0, tol)


class ParamParsing(unittest.TestCase):
    def test_values(self):
        p = R.parse_param_tokens(['0=64', '1=1.5', '-23310=2,0.1,2', '3=2.0,3.0', '4=1,2,3',
                                  '5=abc', '6="a', 'b"', '7=1e-3', '8=-233'], 'x')
        self.assertEqual(p[0], 64)
        self.assertAlmostEqual(p[1], 1.5)
        self.assertEqual(len(p[10]), 2)
        self.assertAlmostEqual(p[10][0], 0.1, places=6)
        self.assertEqual(p[10][1], 2)
        self.assertEqual(p[3], [2.0, 3.0])
        self.assertEqual(p[4], [1, 2, 3])
        self.assertEqual(p[5], 'abc')
        self.assertEqual(p[6], 'a b')
        self.assertAlmostEqual(p[7], 1e-3)
        self.assertEqual(p[8], -233)

    def test_bad(self):
        for toks in (['0'], ['x=1'], ['-23310=3,1,2'], ['40=1'], ['0=1.2.3x']):
            with self.assertRaises(R.NcnnError):
                R.parse_param_tokens(toks, 'x')

    def test_graph_errors(self):
        def net(text):
            with tempfile.NamedTemporaryFile('w', suffix='.param', delete=False) as f:
                f.write(text)
            try:
                return R.Net(f.name)
            finally:
                os.unlink(f.name)
        ok = '7767517\n2 2\nInput in 0 1 a\nReLU r 1 1 a b\n'
        self.assertEqual(net(ok).outputs, ['b'])
        for bad, msg in (('7767517\n2 2\nInput in 0 1 a\nFoo r 1 1 a b\n', "unknown layer type 'Foo'"),
                         ('7767517\n2 2\nInput in 0 1 a\nReLU r 1 1 c b\n', 'used before'),
                         ('7767517\n2 2\nInput in 0 1 a\nReLU r 1 1 a a\n', 'made twice'),
                         ('7767518\n2 2\n', 'magic'),
                         ('7767517\n3 2\nInput in 0 1 a\nReLU r 1 1 a b\n', 'header says 3')):
            with self.assertRaises(R.NcnnError) as cm:
                net(bad)
            self.assertIn(msg, str(cm.exception))
        with self.assertRaises(R.NcnnError) as cm:
            net('7767517\n2 2\nInput in 0 1 a\nFoo r 1 1 a b\n')
        self.assertIn(':4:', str(cm.exception))  # names the line


class WeightTags(unittest.TestCase):
    def test_tags(self):
        v = np.array([0.5, -1.25, 3.0], dtype=np.float32)
        fp16 = struct.pack('<I', R.TAG_FP16) + v.astype('<f2').tobytes() + b'\0\0'
        fp32 = struct.pack('<I', 0) + v.tobytes()
        raw_tag = struct.pack('<I', R.TAG_FP32_RAW) + v.tobytes()
        int8 = struct.pack('<I', R.TAG_INT8) + bytes([1, 255, 3, 0])
        table = np.zeros(256, dtype='<f4')
        table[7], table[9] = 0.5, -1.25
        codebook = struct.pack('<BBBB', 1, 0, 0, 0) + table.tobytes() + bytes([7, 9, 7, 0])
        raw = v.tobytes()
        mb = R.ModelBin(fp16 + fp32 + raw_tag + int8 + codebook + raw)
        close(self, mb.load(3, 0), v)
        close(self, mb.load(3, 0), v)
        close(self, mb.load(3, 0), v)
        close(self, mb.load(3, 0), [1, -1, 3])
        close(self, mb.load(3, 0), [0.5, -1.25, 0.5])
        close(self, mb.load(3, 1), v)
        self.assertEqual(mb.pos, len(mb.data))
        with self.assertRaises(R.NcnnError):
            mb.load(1, 1)

    def test_int8_conv_dequantised(self):
        w = np.array([2, -4, 6, 8], dtype=np.int8)
        data = struct.pack('<I', R.TAG_INT8) + w.tobytes() + np.array([2.0], '<f4').tobytes() + \
            np.array([1.0], '<f4').tobytes()
        lyr = layer('Convolution', {0: 1, 1: 2, 6: 4, 8: 1})
        lyr.load_model(R.ModelBin(data))
        close(self, lyr.weight, [1, -2, 3, 4])


# --- plain transcriptions of ncnn's reference loops -------------------------------------

def ncnn_deconv(x, w, bias, outch, k, s, d):
    inch, h, wd = x.shape
    outw = (wd - 1) * s + d * (k - 1) + 1
    outh = (h - 1) * s + d * (k - 1) + 1
    out = np.zeros((outch, outh, outw), np.float64)
    w = w.reshape(outch, inch, k, k)
    for p in range(outch):
        out[p] += bias[p]
        for i in range(h):
            for j in range(wd):
                for q in range(inch):
                    for ky in range(k):
                        for kx in range(k):
                            out[p, i * s + ky * d, j * s + kx * d] += x[q, i, j] * w[p, q, ky, kx]
    return out


def ncnn_cubic_1d(src_len, dst_len):
    """cubic_coeffs() transcribed in float64-on-float32 steps."""
    scale = src_len / dst_len
    res = []
    for dx in range(dst_len):
        fx = np.float32((dx + 0.5) * scale - 0.5)
        sx = math.floor(fx)
        fx = np.float32(fx - sx)
        A = np.float32(-0.75)
        fx0, fx1, fx2 = np.float32(fx + 1), fx, np.float32(1 - fx)
        c = [A * fx0 ** 3 - 5 * A * fx0 ** 2 + 8 * A * fx0 - 4 * A,
             (A + 2) * fx1 ** 3 - (A + 3) * fx1 ** 2 + 1,
             (A + 2) * fx2 ** 3 - (A + 3) * fx2 ** 2 + 1]
        c.append(1 - c[0] - c[1] - c[2])
        # taps sx-1..sx+2 clamped to the edges (what ncnn's weight folding amounts to)
        taps = [min(max(sx - 1 + t, 0), src_len - 1) for t in range(4)]
        res.append((taps, c))
    return res


class Layers(unittest.TestCase):
    def test_convolution_activations(self):
        x = torch.randn(3, 7, 9)
        w = torch.randn(4, 3, 3, 3)
        b = torch.randn(4)
        base = torch.nn.functional.conv2d(x[None], w, b, padding=1)[0]
        for act, prm, fn in ((0, [], lambda v: v), (1, [], lambda v: v.clamp_min(0)),
                             (2, [0.1], lambda v: torch.where(v > 0, v, v * 0.1)),
                             (3, [-0.5, 0.5], lambda v: v.clamp(-0.5, 0.5)),
                             (4, [], torch.sigmoid),
                             (5, [], lambda v: v * torch.tanh(torch.nn.functional.softplus(v))),
                             (6, [0.2, 0.5], lambda v: v * (v * 0.2 + 0.5).clamp(0, 1))):
            lyr = with_weights(layer('Convolution', {0: 4, 1: 3, 4: 1, 5: 1, 6: 108, 9: act, 10: prm}), w, b)
            close(self, lyr.forward([x])[0], fn(base), 1e-4)

    def test_convolution_same_padding_and_dilation(self):
        x = torch.randn(2, 8, 7)
        w = torch.randn(3, 2, 3, 3)
        lyr = with_weights(layer('Convolution', {0: 3, 1: 3, 2: 2, 3: 2, 4: -233, 6: 54}), w)
        # SAME_UPPER: pad = kext + (n-1)//s*s - n, the smaller half on top/left
        y = lyr.forward([x])[0]
        ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (2, 2, 1, 2))[None], w, stride=2, dilation=2)[0]
        close(self, y, ref, 1e-5)

    def test_depthwise(self):
        x = torch.randn(4, 6, 6)
        w = torch.randn(4, 1, 3, 3)
        lyr = with_weights(layer('ConvolutionDepthWise', {0: 4, 1: 3, 6: 36, 7: 4}), w)
        close(self, lyr.forward([x])[0], torch.nn.functional.conv2d(x[None], w, groups=4)[0], 1e-5)
        # grouped: 2 groups of 2 -> 4 outputs (weights outch-major per group, as Convolution)
        w2 = torch.randn(4, 2, 3, 3)
        lyr = with_weights(layer('ConvolutionDepthWise', {0: 4, 1: 3, 6: 72, 7: 2}), w2)
        close(self, lyr.forward([x])[0], torch.nn.functional.conv2d(x[None], w2, groups=2)[0], 1e-5)

    def test_deconvolution_out_major(self):
        x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
        w = RNG.standard_normal(2 * 3 * 3 * 3).astype(np.float32)
        b = RNG.standard_normal(2).astype(np.float32)
        for s, d in ((2, 1), (1, 2), (3, 1)):
            lyr = with_weights(layer('Deconvolution', {0: 2, 1: 3, 2: d, 3: s, 5: 1, 6: 54}), w, b)
            close(self, lyr.forward([torch.from_numpy(x)])[0], ncnn_deconv(x, w, b, 2, 3, s, d), 1e-4)
        # pads cut the bordered output
        lyr = with_weights(layer('Deconvolution', {0: 2, 1: 3, 3: 2, 4: 1, 5: 1, 6: 54}), w, b)
        close(self, lyr.forward([torch.from_numpy(x)])[0], ncnn_deconv(x, w, b, 2, 3, 2, 1)[:, 1:-1, 1:-1], 1e-4)

    def test_deconvolution_output_size_and_pad(self):
        x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
        w = RNG.standard_normal(2 * 3 * 3 * 3).astype(np.float32)
        b = RNG.standard_normal(2).astype(np.float32)
        full = ncnn_deconv(x, w, b, 2, 3, 2, 1)  # 9 x 11
        # output_w/h with SAME_UPPER: cut (11-10)/2=0 left, 1 right; (9-8): 0 top, 1 bottom
        lyr = with_weights(layer('Deconvolution', {0: 2, 1: 3, 3: 2, 4: -233, 5: 1, 6: 54, 20: 10, 21: 8}), w, b)
        close(self, lyr.forward([torch.from_numpy(x)])[0], full[:, 0:8, 0:10], 1e-4)
        lyr = with_weights(layer('Deconvolution', {0: 2, 1: 3, 3: 2, 4: -234, 5: 1, 6: 54, 20: 10, 21: 8}), w, b)
        close(self, lyr.forward([torch.from_numpy(x)])[0], full[:, 1:9, 1:11], 1e-4)
        # output_pad: one more row/column holding only the bias
        lyr = with_weights(layer('Deconvolution', {0: 2, 1: 3, 3: 2, 5: 1, 6: 54, 18: 1}), w, b)
        y = lyr.forward([torch.from_numpy(x)])[0]
        close(self, y[:, :9, :11], full, 1e-4)
        close(self, y[:, 9, :], np.repeat(b[:, None], 12, 1), 1e-6)
        with self.assertRaises(R.NcnnError):
            with_weights(layer('Deconvolution', {0: 2, 1: 3, 3: 2, 5: 1, 6: 54, 20: 10, 21: 8}), w, b) \
                .forward([torch.from_numpy(x)])

    def test_deconvolution_depthwise(self):
        x = torch.randn(2, 3, 3)
        w = torch.randn(2 * 9)
        lyr = with_weights(layer('DeconvolutionDepthWise', {0: 2, 1: 3, 3: 2, 6: 18, 7: 2}), w)
        y = lyr.forward([x])[0]
        for c in range(2):
            ref = ncnn_deconv(x[c:c + 1].numpy(), w[c * 9:(c + 1) * 9].numpy(), [0], 1, 3, 2, 1)
            close(self, y[c:c + 1], ref, 1e-5)

    def test_pooling(self):
        x = torch.randn(2, 7, 8)
        g = layer('Pooling', {0: 1, 4: 1}).forward([x])[0]
        close(self, g, x.mean(dim=(1, 2)), 1e-6)
        close(self, layer('Pooling', {0: 0, 4: 1}).forward([x])[0], x.amax(dim=(1, 2)))
        # max 3x3 s2 pad 1, full padding mode: tail padding to cover the last window
        y = layer('Pooling', {0: 0, 1: 3, 2: 2, 3: 1}).forward([x])[0]
        self.assertEqual(tuple(y.shape), (2, 4, 5))
        # avg excluding pads: plain transcription of ncnn's area loop (pad 1, k3 s2, full mode)
        y = layer('Pooling', {0: 1, 1: 3, 2: 2, 3: 1}).forward([x])[0]
        h, w, k, st, pd = 7, 8, 3, 2, 1
        wt, ht = (w + 2 * pd - k) % st, (h + 2 * pd - k) % st
        wtail, htail = (st - wt) if wt else 0, (st - ht) if ht else 0
        xp = np.pad(x.numpy(), ((0, 0), (pd, pd + htail), (pd, pd + wtail)))
        H, W = xp.shape[1:]
        oh, ow = (H - k) // st + 1, (W - k) // st + 1
        ref = np.zeros((2, oh, ow))
        for q in range(2):
            for i in range(oh):
                for j in range(ow):
                    s = a = 0
                    for ki in range(k):
                        sy = i * st + ki
                        if sy < pd:
                            continue
                        if sy >= H - pd - htail:
                            break
                        for kj in range(k):
                            sx = j * st + kj
                            if sx < pd:
                                continue
                            if sx >= W - pd - wtail:
                                break
                            s += xp[q, sy, sx]
                            a += 1
                    ref[q, i, j] = s / a
        close(self, y, ref, 1e-5)

    def test_innerproduct_and_scale_se(self):
        x = torch.randn(8)
        w = torch.randn(4, 8)
        b = torch.randn(4)
        lyr = with_weights(layer('InnerProduct', {0: 4, 1: 1, 2: 32, 9: 4}), w, b)
        close(self, lyr.forward([x])[0], torch.sigmoid(w @ x + b), 1e-6)
        # 3-d input flattened channel-major
        x3 = torch.randn(2, 2, 2)
        close(self, lyr.forward([x3])[0], torch.sigmoid(w @ x3.reshape(-1) + b), 1e-6)
        # Scale with the scale blob as 2nd input (waifu2x SE), per channel
        f = torch.randn(3, 4, 5)
        s = torch.randn(3)
        close(self, layer('Scale', {0: -233}, bottoms=2).forward([f, s])[0], f * s.view(3, 1, 1))

    def test_binaryop_broadcast(self):
        a = torch.randn(3, 4, 5)
        self.assertTrue(torch.equal(R.BinaryOp(R.LayerDesc('BinaryOp', 'b', ['x', 'y'], ['z'], {0: 2}, 1))
                                    .forward([a, torch.arange(3.0)])[0], a * torch.arange(3.0).view(3, 1, 1)))
        w5 = torch.randn(5)
        op = layer('BinaryOp', {0: 0}, bottoms=2)
        close(self, op.forward([a, w5])[0], a + w5.view(1, 1, 5))      # 1-d matching w
        hw = torch.randn(4, 5)
        v4 = torch.randn(4)
        close(self, op.forward([hw, v4])[0], hw + v4.view(4, 1))       # 1-d matching h
        m2 = torch.randn(3, 4)
        close(self, op.forward([a, m2])[0], a + m2.view(3, 4, 1))     # 2-d -> (h,w,1)
        close(self, op.forward([a, torch.zeros(1, 4, 1)])[0], a)         # size-1 axes broadcast
        with self.assertRaises(R.NcnnError):
            op.forward([a, torch.randn(2, 4, 5)])
        x, y = torch.tensor([7.0, -7.0, 5.5]), torch.tensor([2.0, 2.0, -2.0])
        expect = {0: x + y, 1: x - y, 2: x * y, 3: x / y, 4: torch.maximum(x, y), 5: torch.minimum(x, y),
                  7: y - x, 8: y / x, 10: torch.atan2(x, y), 11: torch.atan2(y, x),
                  12: torch.fmod(x, y), 13: torch.fmod(y, x), 15: torch.floor(x / y),
                  16: torch.floor(y / x), 17: torch.tensor([-1.0, 1.0, -0.5]),
                  14: torch.logaddexp(x, y)}
        for k, v in expect.items():
            close(self, layer('BinaryOp', {0: k}, bottoms=2).forward([x, y])[0], v, 1e-5)
        # 18: remainderf(y, x); 17 and 18 round the quotient to even: remainderf(5, 2) = 1, (7, 2) = -1
        close(self, layer('BinaryOp', {0: 18}, bottoms=2).forward([y, x])[0], [-1.0, 1.0, -0.5])
        close(self, layer('BinaryOp', {0: 17}, bottoms=2).forward([torch.tensor([5.0, 7.0]), torch.tensor([2.0, 2.0])])[0],
              [1.0, -1.0])
        # against a 4-D (c,d,h,w) blob: 1-D on c or w, 2-D (h,w) -> (h,w,1,1), 3-D (c,h,w) -> (c,h,w,1)
        a4 = torch.randn(2, 3, 4, 5)
        close(self, op.forward([a4, torch.arange(2.0)])[0], a4 + torch.arange(2.0).view(2, 1, 1, 1))
        close(self, op.forward([torch.arange(5.0), a4])[0], a4 + torch.arange(5.0).view(1, 1, 1, 5))
        close(self, op.forward([a4, torch.ones(2, 3)])[0], a4 + 1)
        t3 = torch.randn(2, 3, 4)
        close(self, op.forward([a4, t3])[0], a4 + t3.view(2, 3, 4, 1))
        close(self, layer('BinaryOp', {0: 7, 1: 1, 2: 10.0}).forward([x])[0], 10 - x)
        close(self, layer('BinaryOp', {0: 9, 1: 1, 2: 2.0}).forward([torch.tensor([3.0])])[0], [8.0])

    def test_crop_forms(self):
        x = torch.arange(2 * 6 * 7, dtype=torch.float32).view(2, 6, 7)
        # starts/ends/axes (Real-CUGAN): [4:-4] on h and w
        y = layer('Crop', {9: [1, 2], 10: [-1, -2], 11: [-2, -1]}).forward([x])[0]
        self.assertTrue(torch.equal(y, x[:, 1:-1, 2:-2]))
        # reference blob (waifu2x): offsets 1,2, size of the reference
        ref = torch.zeros(2, 3, 4)
        y = layer('Crop', {0: 2, 1: 1}, bottoms=2).forward([x, ref])[0]
        self.assertTrue(torch.equal(y, x[:, 1:4, 2:6]))
        # offset form with outw/outh and with woffset2
        y = layer('Crop', {0: 1, 1: 2, 3: 3, 4: 2, 5: -233}).forward([x])[0]
        self.assertTrue(torch.equal(y, x[:, 2:4, 1:4]))
        y = layer('Crop', {0: 1, 6: 2, 3: -233, 4: -233, 5: -233}).forward([x])[0]
        self.assertTrue(torch.equal(y, x[:, :, 1:5]))
        # channel crop
        y = layer('Crop', {9: [1], 10: [2], 11: [0]}).forward([x])[0]
        self.assertTrue(torch.equal(y, x[1:2]))
        with self.assertRaises(R.NcnnError):
            layer('Crop', {0: 8, 3: 4, 4: -233, 5: -233}).forward([x])

    def test_interp(self):
        x = torch.randn(2, 5, 6)
        n = layer('Interp', {0: 1, 1: 2.0, 2: 2.0}).forward([x])[0]
        close(self, n, x.repeat_interleave(2, 1).repeat_interleave(2, 2))
        # bilinear half-pixel == PyTorch align_corners=False (for upscaling)
        b = layer('Interp', {0: 2, 1: 2.0, 2: 3.0}).forward([x])[0]
        close(self, b, torch.nn.functional.interpolate(x[None], size=(10, 18), mode='bilinear',
                                                       align_corners=False)[0], 1e-5)
        # bicubic: ncnn's taps and A=-0.75 coefficients, transcribed
        for scale_h, scale_w in ((0.5, 0.5), (0.75, 0.75), (2.0, 3.0)):
            c = layer('Interp', {0: 3, 1: scale_h, 2: scale_w}).forward([x])[0]
            oh, ow = int(5 * scale_h), int(6 * scale_w)
            cy, cx = ncnn_cubic_1d(5, oh), ncnn_cubic_1d(6, ow)
            ref = np.zeros((2, oh, ow))
            xn = x.numpy().astype(np.float64)
            for i, (ty, wy) in enumerate(cy):
                for j, (tx, wx) in enumerate(cx):
                    ref[:, i, j] = sum(wy[a] * sum(wx[b] * xn[:, ty[a], tx[b]] for b in range(4))
                                       for a in range(4))
            close(self, c, ref, 1e-5)
        # the step is in/out, not 1/scale: PyTorch's scale_factor= differs when in*scale is not whole
        x81 = torch.rand(1, 81, 81)
        c = layer('Interp', {0: 3, 1: 0.75, 2: 0.75}).forward([x81])[0]
        close(self, c, torch.nn.functional.interpolate(x81[None], size=(60, 60), mode='bicubic',
                                                       align_corners=False)[0], 2e-5)
        self.assertGreater(float((c - torch.nn.functional.interpolate(
            x81[None], scale_factor=0.75, mode='bicubic', align_corners=False)[0]).abs().max()), 0.1)
        # output size form
        self.assertEqual(tuple(layer('Interp', {0: 2, 3: 7, 4: 9}).forward([x])[0].shape), (2, 7, 9))

    def test_pixelshuffle(self):
        x = torch.randn(12, 3, 4)
        close(self, layer('PixelShuffle', {0: 2}).forward([x])[0],
              torch.nn.functional.pixel_shuffle(x[None], 2)[0])
        y = layer('PixelShuffle', {0: 2, 1: 1}).forward([x])[0]
        # mode 1: q = (sh*r + sw)*outc + p
        self.assertEqual(float(y[1, 1, 0]), float(x[(1 * 2 + 0) * 3 + 1, 0, 0]))
        self.assertEqual(float(y[2, 0, 3]), float(x[(0 * 2 + 1) * 3 + 2, 0, 1]))

    def test_eltwise_concat_slice(self):
        a, b, c = torch.randn(2, 3, 3), torch.randn(2, 3, 3), torch.randn(2, 3, 3)
        close(self, layer('Eltwise', {0: 1, 1: [0.2, 1.0]}, 2).forward([a, b])[0], a * 0.2 + b)
        close(self, layer('Eltwise', {0: 0}, 3).forward([a, b, c])[0], a * b * c)
        close(self, layer('Eltwise', {0: 2}, 2).forward([a, b])[0], torch.maximum(a, b))
        close(self, layer('Concat', {0: 0}, 2).forward([a, b])[0], torch.cat([a, b]))
        close(self, layer('Concat', {0: -1}, 2).forward([a, b])[0], torch.cat([a, b], 2))
        parts = layer('Slice', {0: [1, -233], 1: 1}, 1, 2).forward([a])
        close(self, parts[0], a[:, :1])
        close(self, parts[1], a[:, 1:])

    def test_padding(self):
        x = torch.randn(3, 4, 5)
        close(self, layer('Padding', {0: 1, 1: 2, 2: 3, 3: 1, 4: 2}).forward([x])[0],
              torch.nn.functional.pad(x[None], (3, 1, 1, 2), mode='reflect')[0])
        close(self, layer('Padding', {0: 1, 1: 2, 2: 3, 3: 1, 4: 1}).forward([x])[0],
              torch.nn.functional.pad(x[None], (3, 1, 1, 2), mode='replicate')[0])
        y = layer('Padding', {0: 1, 4: 0, 5: 2.5, 7: 1}).forward([x])[0]
        self.assertEqual(tuple(y.shape), (4, 5, 5))
        self.assertTrue(bool((y[0] == 2.5).all()) and bool((y[1:, 0] == 2.5).all()))
        close(self, y[1:, 1:], x)

    def test_activations(self):
        x = torch.linspace(-4, 4, 33)
        close(self, layer('ReLU', {0: 0.1}).forward([x])[0], torch.where(x < 0, 0.1 * x, x))
        close(self, layer('Sigmoid', {}).forward([x])[0], torch.sigmoid(x), 1e-6)
        close(self, layer('Swish', {}).forward([x])[0], x * torch.sigmoid(x), 1e-6)
        close(self, layer('Mish', {}).forward([x])[0], x * torch.tanh(torch.nn.functional.softplus(x)), 1e-6)
        close(self, layer('HardSigmoid', {0: 1 / 6, 1: 0.5}).forward([x])[0], torch.nn.functional.hardsigmoid(x), 1e-6)
        close(self, layer('HardSwish', {0: 1 / 6, 1: 0.5}).forward([x])[0], torch.nn.functional.hardswish(x), 1e-6)
        close(self, layer('Clip', {0: -1.0, 1: 2.0}).forward([x])[0], x.clamp(-1, 2))
        close(self, layer('Dropout', {0: 0.5}).forward([x])[0], x * 0.5)
        close(self, layer('UnaryOp', {0: 18}).forward([torch.tensor([0.5, 1.5, -2.5])])[0], [0.0, 2.0, -2.0])
        p = with_weights(layer('PReLU', {0: 2}), [0.1, 0.2], tag='raw')
        v = torch.tensor([[[-1.0]], [[-1.0]]])
        close(self, p.forward([v])[0], [[[-0.1]], [[-0.2]]])

    def test_reshape_permute_flatten_softmax(self):
        x = torch.arange(24.0).view(2, 3, 4)
        close(self, layer('Reshape', {0: -1}).forward([x])[0], x.reshape(-1))
        close(self, layer('Reshape', {0: 4, 1: 6}).forward([x])[0], x.reshape(6, 4))
        close(self, layer('Reshape', {0: 0, 1: -1, 2: 1}).forward([x])[0], x.reshape(1, 6, 4))
        close(self, layer('Flatten', {}).forward([x])[0], x.reshape(-1))
        # order 3 = "c w h": out w = c, out h = w, out c = h
        close(self, layer('Permute', {0: 3}).forward([x])[0], x.permute(1, 2, 0))
        close(self, layer('Permute', {0: 2}).forward([x])[0], x.permute(1, 0, 2))
        close(self, layer('Permute', {0: 1}).forward([x])[0], x.permute(0, 2, 1))
        # 4-D (c,d,h,w): Reshape with 11= (depth), 0 keeps, -1 infers
        x4 = torch.arange(120.0).view(2, 3, 4, 5)
        close(self, layer('Reshape', {0: 5, 1: 4, 11: 3, 2: 2}).forward([torch.arange(120.0).view(2, 6, 10)])[0], x4)
        close(self, layer('Reshape', {0: 0, 1: -1, 11: 1, 2: 0}).forward([x4])[0], x4.reshape(2, 1, 12, 5))
        # 4-D Permute, as ncnn's loops create the output: type 1 create(h, w, d, c), type 6
        # create(w, h, c, d), type 9 create(c, w, h, d), type 23 create(c, d, h, w)
        close(self, layer('Permute', {0: 1}).forward([x4])[0], x4.permute(0, 1, 3, 2))
        close(self, layer('Permute', {0: 6}).forward([x4])[0], x4.permute(1, 0, 2, 3))
        close(self, layer('Permute', {0: 9}).forward([x4])[0], x4.permute(1, 2, 3, 0))
        close(self, layer('Permute', {0: 23}).forward([x4])[0], x4.permute(3, 2, 1, 0))
        close(self, layer('Softmax', {0: 0}).forward([x])[0], torch.softmax(x, 0), 1e-6)
        close(self, layer('Softmax', {0: 2, 1: 1}).forward([x])[0], torch.softmax(x, 2), 1e-6)
        with self.assertRaises(R.NcnnError):
            layer('Softmax', {0: 1}).forward([x])


class Goldens(unittest.TestCase):
    """A few goldens recomputed from the real models, where they are unpacked or fetched
    (make_ncnn_goldens.py --check does all 29)."""

    def test_goldens_reproduce(self):
        import families as Fm
        here = os.path.dirname(os.path.abspath(__file__))
        ran = 0
        for name in ('waifu2x-upconv7-x2', 'realcugan-x2-conservative', 'realesr-animevideov3-x2'):
            if Fm.model_files(name) is None:
                continue
            with self.subTest(model=name):
                meta_path = os.path.join(here, '..', 'data', 'ncnn', name + '.json')
                with open(meta_path) as f:
                    meta = json.load(f)
                d = os.path.dirname(meta_path)
                i = meta['input']
                u8 = np.fromfile(os.path.join(d, i['file']), dtype=np.uint8).reshape(i['h'], i['w'], 3)
                y = Fm.run_graph(name, Fm.to_float(u8))
                o = meta['output']
                gold = np.fromfile(os.path.join(d, o['file']), dtype='<f4').reshape(o['c'], o['h'], o['w'])
                close(self, y, gold, 1e-5)
                ran += 1
        if not ran:
            self.skipTest(f'models not unpacked at {Fm.PACKAGE} nor installed (scripts/fetch-models.sh)')


if __name__ == '__main__':
    unittest.main()
