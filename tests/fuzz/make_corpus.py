#!/usr/bin/env python3
"""Writes the fuzz seed corpus (tests/fuzz/corpus/<target>/) from the model fixtures in
tests/data/fixtures, the opencv-doc example images and a few hand-made headers. Standard library
only. Run once; the output is committed (a few hundred KiB).

    python3 tests/fuzz/make_corpus.py [FIXTURES_DIR]
"""
import os
import struct
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "data", "fixtures")
DOC = "/usr/share/doc/opencv-doc/examples/data"
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


# ncnn: .param text, NUL, .bin bytes.
for stem in ("compact-x4-nc4-nf16", "rrdb-x4-nb2-nf16-gc8"):
    param, bin_ = fixture(stem + ".param"), fixture(stem + ".bin")
    put("ncnn", stem, param + b"\0" + bin_)
    put("ncnn", stem + ".param-only", param)
put("ncnn", "fp32-tag", b"7767517\n3 3\nInput in 0 1 a\nConvolution c 1 1 a b 0=1 1=1 5=1 6=1\n"
    b"PReLU p 1 1 b c 0=1\n\0" + struct.pack("<I", 0) + struct.pack("<3f", 1, 2, 3))


# ncnn graphs for the executor (issue 13): one seed per family shape and per layer group, with
# weights (tagged fp32 or fp16 for weight blobs, raw fp32 for biases) and as .param only.
def ncnn_seed(name, layers, fp16=False):
    """layers: (type, name, bottoms, tops, params, weights); weights: a list of
    ("t", count) tagged or ("r", count) raw float arrays, in ncnn's load order."""
    blobs = {t for l in layers for t in l[3]}
    lines = ["7767517", "%d %d" % (len(layers), len(blobs))]
    bin_ = b""
    k = 0
    for ty, nm, bottoms, tops, params, weights in layers:
        lines.append(" ".join([ty, nm, str(len(bottoms)), str(len(tops))] + bottoms + tops + ([params] if params else [])))
        for kind, count in weights:
            vals = [((k + i) * 37 % 17 - 8) / 32.0 for i in range(count)]
            k += count
            if kind == "t" and fp16:
                bin_ += struct.pack("<I", 0x01306B47) + struct.pack("<%de" % count, *vals)
                bin_ += b"\0" * ((4 - (2 * count) % 4) % 4)
            elif kind == "t":
                bin_ += struct.pack("<I", 0) + struct.pack("<%df" % count, *vals)
            else:
                bin_ += struct.pack("<%df" % count, *vals)
    param = ("\n".join(lines) + "\n").encode()
    put("ncnn", name, param + b"\0" + bin_)
    put("ncnn", name + ".param-only", param)


def conv(nm, b, t, cin, cout, k, extra="", dw=False, deconv=False, group=1):
    ty = ("Deconvolution" if deconv else "Convolution") + ("DepthWise" if dw else "")
    n = cout * cin // group * k * k
    params = "0=%d 1=%d 5=1 6=%d%s%s" % (cout, k, n, " 7=%d" % group if dw else "", extra)
    return (ty, nm, [b], [t], params, [("t", n), ("r", cout)])


# Real-CUGAN's shape: valid convolutions, a stride-2 U-Net with an SE block (global average,
# InnerProduct, BinaryOp mul of a 3-D by a 1-D blob), starts/ends/axes Crops, PixelShuffle.
ncnn_seed("unet-se-cugan", [
    ("Input", "in0", [], ["in0"], "", []),
    conv("c1", "in0", "a", 3, 8, 3, " 9=2 -23310=1,1.000000e-01"),
    ("Split", "s1", ["a"], ["a0", "a1"], "", []),
    conv("down", "a0", "b", 8, 8, 2, " 3=2 9=2 -23310=1,1.000000e-01"),
    ("Split", "s2", ["b"], ["b0", "b1"], "", []),
    ("Pooling", "gap", ["b0"], ["g"], "0=1 4=1", []),
    ("InnerProduct", "fc1", ["g"], ["h"], "0=2 1=1 2=16 9=1", [("t", 16), ("r", 2)]),
    ("InnerProduct", "fc2", ["h"], ["k"], "0=8 1=1 2=16 9=4", [("t", 16), ("r", 8)]),
    ("BinaryOp", "se", ["b1", "k"], ["m"], "0=2", []),
    conv("up", "m", "u", 8, 8, 2, " 3=2 9=2 -23310=1,1.000000e-01", deconv=True),
    ("Crop", "cr", ["a1"], ["ac"], "-23309=2,0,0 -23310=2,-233,-233 -23311=2,1,2", []),
    ("BinaryOp", "skip", ["ac", "u"], ["v"], "0=0", []),
    conv("last", "v", "w", 8, 12, 3),
    ("PixelShuffle", "ps", ["w"], ["out0"], "0=2", []),
], fp16=True)

# waifu2x cunet's shape: reference-blob Crop, Scale with the scales as a second input,
# Eltwise sum with coefficients, max pooling, a k4 s2 pad 3 Deconvolution at the end.
ncnn_seed("unet-scale-waifu2x", [
    ("Input", "Input1", [], ["x"], "0=-1 1=-1 2=3", []),
    conv("c1", "x", "a", 3, 8, 3, " 9=2 -23310=1,1.000000e-01"),
    ("Split", "s1", ["a"], ["a0", "a1", "a2"], "", []),
    ("Pooling", "mp", ["a0"], ["p"], "0=0 1=2 2=2", []),
    conv("c2", "p", "q", 8, 8, 3, " 4=1"),
    ("Deconvolution", "up", ["q"], ["u"], "0=8 1=2 3=2 5=1 6=256", [("t", 256), ("r", 8)]),
    ("Crop", "cr", ["a1", "u"], ["ac"], "0=0 1=0", []),
    ("Pooling", "gap", ["u"], ["g"], "0=1 4=1", []),
    ("InnerProduct", "fc", ["g"], ["k"], "0=8 1=1 2=64 9=4", [("t", 64), ("r", 8)]),
    ("Split", "s2", ["k"], ["k0"], "", []),
    ("Scale", "sc", ["ac", "k0"], ["sa"], "0=-233", []),
    ("Crop", "cr2", ["a2", "sa"], ["a2c"], "0=0 1=0", []),
    ("Eltwise", "sum", ["a2c", "sa"], ["e"], "0=1 -23301=2,2.000000e-01,1.000000e+00", []),
    ("Split", "s3", ["e"], ["e0", "e1"], "", []),
    ("Eltwise", "prod", ["e0", "e1"], ["e2"], "0=0", []),
    ("Deconvolution", "out", ["e2"], ["Eltwise4"], "0=3 1=4 3=2 4=3 5=1 6=384", [("t", 384), ("r", 3)]),
])

# Activations, UnaryOp/BinaryOp (incl. types 14-18 and their scalar forms), Interp in all
# three modes, Padding, Concat, depthwise convolution and deconvolution, Dropout, Noop.
ncnn_seed("activations-resample", [
    ("Input", "data", [], ["x"], "", []),
    conv("c1", "x", "a", 3, 4, 3, " 4=1"),
    ("ReLU", "r", ["a"], ["b"], "0=1.000000e-01", []),
    ("PReLU", "pr", ["b"], ["c"], "0=4", [("r", 4)]),
    ("Sigmoid", "sg", ["c"], ["d"], "", []),
    ("Clip", "cl", ["d"], ["e"], "0=-5.000000e-01 1=5.000000e-01", []),
    ("Swish", "sw", ["e"], ["f"], "", []),
    ("HardSigmoid", "hs", ["f"], ["g"], "0=2.000000e-01 1=5.000000e-01", []),
    ("HardSwish", "hw", ["g"], ["h"], "", []),
    ("Mish", "mi", ["h"], ["i"], "", []),
    ("TanH", "th", ["i"], ["j"], "", []),
    ("UnaryOp", "u0", ["j"], ["k"], "0=16", []),
    ("UnaryOp", "u1", ["k"], ["k1"], "0=27", []),
    ("BinaryOp", "b14", ["k1"], ["l"], "0=14 1=1 2=5.000000e-01", []),
    ("BinaryOp", "b17", ["l"], ["l1"], "0=17 1=1 2=7.500000e-01", []),
    ("BinaryOp", "b16", ["l1"], ["l2"], "0=16 1=1 2=2.000000e+00", []),
    ("Dropout", "dr", ["l2"], ["m"], "0=5.000000e-01", []),
    ("Noop", "no", ["m"], ["n"], "", []),
    ("Split", "s", ["n"], ["n0", "n1", "n2"], "", []),
    ("Interp", "nearest", ["n0"], ["o0"], "0=1 1=2.000000e+00 2=2.000000e+00", []),
    ("Interp", "bilinear", ["n1"], ["o1"], "0=2 1=2.000000e+00 2=2.000000e+00 6=1", []),
    ("Interp", "bicubic", ["n2"], ["o2c"], "0=3 1=2.000000e+00 2=2.000000e+00", []),
    ("Padding", "pad", ["o2c"], ["o2p"], "0=1 1=1 2=1 3=1 4=2", []),
    ("Crop", "crop", ["o2p"], ["o2"], "0=1 1=1 3=-233 4=-233 5=-233 6=1 7=1", []),
    ("Concat", "cat", ["o0", "o1", "o2"], ["p"], "0=0", []),
    conv("dw", "p", "q", 12, 12, 3, " 4=1", dw=True, group=12),
    conv("dd", "q", "r2", 12, 12, 3, " 4=1", dw=True, deconv=True, group=12),
    ("BinaryOp", "b18", ["r2", "q"], ["s2"], "0=18", []),
    conv("last", "s2", "output", 12, 3, 1),
])

# Layout: 4-D Reshape (11=) and Permute, back to 3-D, Softmax, Flatten on a side branch, the
# offset Crop and a 2-D blob broadcast against a 4-D one.
ncnn_seed("layout-4d", [
    ("Input", "in0", [], ["x"], "0=8 1=8 2=3", []),
    conv("c1", "x", "a", 3, 8, 1),
    ("Split", "s", ["a"], ["a0", "a1", "a2"], "", []),
    ("Reshape", "r4", ["a0"], ["b"], "0=8 1=8 11=2 2=4", []),
    ("Permute", "p4", ["b"], ["c"], "0=6", []),
    ("Crop", "c2", ["a1"], ["t2c"], "-23309=2,0,0 -23310=2,1,1 -23311=2,0,1", []),
    ("Reshape", "r2", ["t2c"], ["t2"], "0=4 1=2", []),
    ("BinaryOp", "bc", ["c", "t2"], ["d"], "0=0", []),
    ("Softmax", "sm", ["d"], ["e"], "0=1 1=1", []),
    ("Reshape", "r3", ["e"], ["f"], "0=8 1=8 2=8", []),
    ("Flatten", "fl", ["a2"], ["g"], "", []),
    ("Reshape", "rg", ["g"], ["h"], "0=8 1=-1", []),
    ("BinaryOp", "bg", ["h"], ["h2"], "0=15 1=1 2=3.000000e+00", []),
    ("Permute", "p2", ["h2"], ["h3"], "0=1", []),
    ("Convolution", "last", ["f"], ["output"], "0=3 1=1 5=1 6=24", [("t", 24), ("r", 3)]),
])

# pytorch: zip (torch.save >= 1.6, with and without params_ema), legacy, TorchScript, ESRGAN keys.
for name in ("compact-x2-nc2-nf8.pth", "compact-x2-nc2-nf8.params.pth", "compact-x2-nc2-nf8.bare-legacy.pth",
             "compact-x4-nc4-nf16.torchscript.pt", "rrdb-x4-nb2-nf16-gc8.esrgan-keys.pth"):
    put("pytorch", name, fixture(name))

# pickle: the data.pkl of each zip checkpoint and the legacy file (its pickles run in a row).
for name in ("compact-x2-nc2-nf8.pth", "compact-x2-nc2-nf8.params.pth", "rrdb-x4-nb2-nf16-gc8.esrgan-keys.pth"):
    with zipfile.ZipFile(os.path.join(FIX, name)) as z:
        for entry in z.namelist():
            if entry.endswith("/data.pkl"):
                put("pickle", name + ".data.pkl", z.read(entry))
legacy = fixture("compact-x2-nc2-nf8.bare-legacy.pth")
put("pickle", "legacy-magic.pkl", legacy[:64])
put("pickle", "legacy-head.pkl", legacy[:4096])

# safetensors: both architectures.
for name in ("compact-x2-nc2-nf8.safetensors", "rrdb-x2-nb1-nf16-gc8.safetensors"):
    put("safetensors", name, fixture(name))
header = b'{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,1],"data_offsets":[0,4]}}'
put("safetensors", "bf16-header-only", struct.pack("<Q", len(header)) + header + b"\0" * 4)


# image_header: tiny real files and header-only slices of each format.
def png(w, h):
    raw = b"".join(b"\0" + bytes(3 * w) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bmp(w, h):
    row = (3 * w + 3) // 4 * 4
    pixels = bytes(row * h)
    return (b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) +
            struct.pack("<IiiHHIIiiII", 40, w, -h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0) + pixels)


def tiff(w, h, big_endian):
    e = ">" if big_endian else "<"
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 8 + 4), (278, 3, 1, h), (279, 4, 1, w * h)]
    ifd = struct.pack(e + "H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack(e + "HHI", tag, typ, count) + (struct.pack(e + "HH", value, 0) if typ == 3 else struct.pack(e + "I", value))
    return (b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", 8) + ifd + b"\0\0\0\0" + bytes(w * h)


def exif_jpeg(jpeg, orientation):
    app1 = (b"\xff\xe1\x00\x22Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0" +
            bytes([orientation, 0, 0, 0]) + b"\0\0\0\0")
    return jpeg[:2] + app1 + jpeg[2:]


def webp(kind, payload):
    body = b"WEBP" + kind + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


put("image_header", "rgb3x2.png", png(3, 2))
put("image_header", "bmp2x2.bmp", bmp(2, 2))
put("image_header", "le.tif", tiff(4, 3, False))
put("image_header", "be.tif", tiff(4, 3, True))
with open(os.path.join(DOC, "LinuxLogo.jpg"), "rb") as f:
    jpg = f.read()
put("image_header", "linuxlogo-head.jpg", jpg[:1024])
put("image_header", "exif6-head.jpg", exif_jpeg(jpg, 6)[:1024])
put("image_header", "vp8.webp", webp(b"VP8 ", b"\x50\x02\x00\x9d\x01\x2a\x10\x00\x08\x00" + bytes(20)))
put("image_header", "vp8l.webp", webp(b"VP8L", b"\x2f\x0f\xc0\x01\x00" + bytes(20)))
put("image_header", "vp8x.webp", webp(b"VP8X", b"\x10\0\0\0\x0f\0\0\x07\0\0" + bytes(20)))
with open(os.path.join(DOC, "templ.png"), "rb") as f:
    put("image_header", "templ.png", f.read())

# video: the first 48 KiB of the opencv-doc AVI clips (headers, index, first frames).
for name in ("tree.avi", "Megamind.avi", "Megamind_bugy.avi", "vtest.avi"):
    with open(os.path.join(DOC, name), "rb") as f:
        put("video", name + ".head", f.read(48 << 10))

total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
print(f"corpus: {sum(len(fs) for _, _, fs in os.walk(OUT))} files, {total} bytes in {OUT}")
