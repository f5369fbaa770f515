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
