"""The Python module against the CLI (issue 16): same pixels and bytes for gray, RGB, RGBA and
16-bit images, the exceptions, progress calls, cancellation from another thread and Ctrl-C.

    YAMIRO_BIN=build/yamiro YAMIRO_FIXTURES=tests/data/fixtures PYTHONPATH=build/python \
        /usr/bin/python3 -m unittest tests/python/test_yamiro.py
"""
import json
import os
import signal
import subprocess
import tempfile
import threading
import unittest

import numpy as np

import yamiro

BIN = os.environ["YAMIRO_BIN"]
FIXTURES = os.environ["YAMIRO_FIXTURES"]
MODEL = os.path.join(FIXTURES, "compact-x4-nc4-nf16.param")


def cli(*args):
    """Runs yamiro; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def noise(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    top = 65535 if dtype == np.uint16 else 255
    # Smooth gradients plus noise: a picture-like input, every value range used.
    h, w = shape[:2]
    base = np.linspace(0, top, h * w).reshape(h, w)
    if len(shape) == 3:
        base = np.repeat(base[:, :, None], shape[2], axis=2)
    a = base * 0.6 + rng.integers(0, top + 1, size=shape) * 0.4
    return a.astype(dtype)


class PixelsAsTheCli(unittest.TestCase):
    # Precision pinned on both sides: `auto` is a per-machine measurement that may be taken
    # again between two runs on a busy machine (and then choose another path).
    @classmethod
    def setUpClass(cls):
        cls.up = yamiro.Upscaler(model=MODEL, precision="fp32")
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check(self, name, array, cli_args=(), **options):
        d = self.tmp.name
        src = os.path.join(d, name + ".png")
        yamiro.write_image(array, src, overwrite=True)
        np.testing.assert_array_equal(yamiro.read_image(src), array)  # PNG round trip is lossless
        cli_out = os.path.join(d, name + "_cli.png")
        code, _, err = cli("upscale", "-q", src, "-o", cli_out, "-m", MODEL, "--precision", "fp32", "--overwrite",
                          *cli_args)
        self.assertEqual(code, 0, err)
        out = self.up.upscale(array, **options)
        self.assertEqual(out.dtype, array.dtype)
        self.assertEqual(out.ndim, array.ndim)
        if array.ndim == 3:
            self.assertEqual(out.shape[2], array.shape[2])
        scale = options.get("outscale") or 4
        self.assertEqual(out.shape[:2], (round(array.shape[0] * scale), round(array.shape[1] * scale)))
        np.testing.assert_array_equal(out, yamiro.read_image(cli_out))
        # Written by the module: the CLI's bytes.
        mod_out = os.path.join(d, name + "_module.png")
        yamiro.write_image(out, mod_out, overwrite=True)
        with open(mod_out, "rb") as a, open(cli_out, "rb") as b:
            self.assertEqual(a.read(), b.read())
        # upscale_file runs the CLI's own pipeline: the same bytes again.
        file_out = os.path.join(d, name + "_file.png")
        r = yamiro.upscale_file(src, file_out, model=MODEL, precision="fp32", overwrite=True, **options)
        self.assertEqual((r["width"], r["height"]), (out.shape[1], out.shape[0]))
        with open(file_out, "rb") as a, open(cli_out, "rb") as b:
            self.assertEqual(a.read(), b.read())
        return out

    def test_rgb8(self):
        self.check("rgb8", noise((20, 28, 3), np.uint8, 1))

    def test_gray8(self):
        self.check("gray8", noise((24, 20), np.uint8, 2))

    def test_rgba8(self):
        a = noise((20, 24, 4), np.uint8, 3)
        a[:10, :, 3] = 0  # a transparent half
        self.check("rgba8", a)

    def test_rgb16(self):
        self.check("rgb16", noise((20, 22, 3), np.uint16, 4))

    def test_gray16(self):
        self.check("gray16", noise((18, 20), np.uint16, 5))

    def test_rgba16_bicubic_alpha_outscale(self):
        self.check("rgba16", noise((20, 24, 4), np.uint16, 6), ("--alpha", "bicubic", "--outscale", "2"),
                   alpha="bicubic", outscale=2)

    def test_rgb8_outscale_3(self):
        self.check("rgb8_x3", noise((20, 20, 3), np.uint8, 7), ("--outscale", "3"), outscale=3)

    def test_gray_with_channel_axis_keeps_it(self):
        a = noise((16, 16, 1), np.uint8, 8)
        out = self.up.upscale(a)
        self.assertEqual(out.shape, (64, 64, 1))
        np.testing.assert_array_equal(out[:, :, 0], self.up.upscale(a[:, :, 0]))

    def test_non_contiguous_input(self):
        a = noise((20, 40, 3), np.uint8, 9)
        view = a[:, ::2]
        np.testing.assert_array_equal(self.up.upscale(view), self.up.upscale(np.ascontiguousarray(view)))


class Properties(unittest.TestCase):
    def test_properties(self):
        up = yamiro.Upscaler(model=MODEL, device="cpu", precision="fp32", tile=32, tile_pad=4, threads=1)
        self.assertEqual(up.scale, 4)
        self.assertEqual(up.device, "cpu")
        self.assertEqual(up.precision, "fp32")
        self.assertEqual(up.threads, 1)
        self.assertIn("SRVGGNetCompact", up.arch)

    def test_info_is_the_cli_profile(self):
        code, out, err = cli("info", "--json")
        self.assertEqual(code, 0, err)
        want = json.loads(out)
        got = yamiro.info()
        self.assertEqual(set(got), set(want))
        for key in ("yamiro", "libraries", "model_dirs", "os"):
            self.assertEqual(got[key], want[key], key)
        self.assertEqual(got["cpu"]["model"], want["cpu"]["model"])
        self.assertEqual(got["yamiro"], yamiro.__version__)

    def test_models(self):
        names = {m["name"]: m for m in yamiro.models()}
        self.assertIn("realesrgan-x4fast", names)
        self.assertTrue(names["realesrgan-x4fast"]["known"])
        self.assertTrue(names["realesrgan-x4fast"]["builtin"])


class Errors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = yamiro.Upscaler(model=MODEL)

    def assertRaisesKind(self, cls, fn, *args, text=None, **kwargs):
        with self.assertRaises(cls) as cm:
            fn(*args, **kwargs)
        self.assertIsInstance(cm.exception, yamiro.Error)
        if text:
            self.assertIn(text, str(cm.exception))
        return cm.exception

    def test_hierarchy(self):
        for cls in (yamiro.UsageError, yamiro.InputError, yamiro.ModelError, yamiro.DeviceError, yamiro.IoError,
                    yamiro.Interrupted):
            self.assertTrue(issubclass(cls, yamiro.Error), cls)
        self.assertEqual(yamiro.Error.__module__, "yamiro")

    def test_model_error(self):
        self.assertRaisesKind(yamiro.ModelError, yamiro.Upscaler, model="no-such-model-xyz", text="no-such-model-xyz")
        with tempfile.NamedTemporaryFile(suffix=".param") as f:
            f.write(b"not an ncnn file\n")
            f.flush()
            self.assertRaisesKind(yamiro.ModelError, yamiro.Upscaler, model=f.name)

    def test_usage_errors(self):
        self.assertRaisesKind(yamiro.UsageError, yamiro.Upscaler, model=MODEL, precision="fp8", text="fp8")
        self.assertRaisesKind(yamiro.UsageError, yamiro.Upscaler, model=MODEL, tile=8)
        a = noise((8, 8, 3), np.uint8, 0)
        self.assertRaisesKind(yamiro.UsageError, self.up.upscale, a, alpha="nearest", text="model or bicubic")
        self.assertRaisesKind(yamiro.UsageError, self.up.upscale, a, outscale=-1)

    def test_device_error(self):
        self.assertRaisesKind(yamiro.DeviceError, yamiro.Upscaler, model=MODEL, device="cuda:7")

    def test_input_errors(self):
        self.assertRaisesKind(yamiro.InputError, self.up.upscale, np.zeros((8, 8, 3), np.float32), text="float32")
        self.assertRaisesKind(yamiro.InputError, self.up.upscale, np.zeros((8, 8, 2), np.uint8), text="shape")
        self.assertRaisesKind(yamiro.InputError, self.up.upscale, np.zeros((0, 8), np.uint8), text="empty")
        self.assertRaisesKind(yamiro.InputError, yamiro.read_image, "/nonexistent/x.png", text="/nonexistent/x.png")

    def test_file_errors_as_the_cli(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "a.png")
            yamiro.write_image(noise((8, 8, 3), np.uint8, 0), src)
            self.assertRaisesKind(yamiro.IoError, yamiro.write_image, noise((8, 8, 3), np.uint8, 0), src, text="exists")
            e = self.assertRaisesKind(yamiro.Error, self.up.upscale_file, src, src)
            code, _, err = cli("upscale", "-q", src, "-o", src, "-m", MODEL)
            self.assertNotEqual(code, 0)
            self.assertIn(str(e), err)
            broken = os.path.join(d, "broken.png")
            with open(broken, "wb") as f:
                f.write(b"\x89PNG\r\n\x1a\nnot really")
            self.assertRaisesKind(yamiro.InputError, self.up.upscale_file, broken, os.path.join(d, "b.png"))
            self.assertFalse(os.path.exists(os.path.join(d, "b.png")))


class ProgressAndCancel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = yamiro.Upscaler(model=MODEL, tile=16, tile_pad=2, threads=1)
        cls.big = noise((128, 128, 3), np.uint8, 11)  # 64 tiles

    def test_progress_calls(self):
        calls = []
        out = self.up.upscale(noise((40, 48, 3), np.uint8, 10), progress=lambda d, t: calls.append((d, t)))
        self.assertEqual(out.shape, (160, 192, 3))
        self.assertGreater(len(calls), 1)
        total = calls[-1][1]
        self.assertEqual(calls[-1], (total, total))
        self.assertEqual([d for d, _ in calls], list(range(1, total + 1)))

    def test_callback_exception_stops_the_run(self):
        calls = []

        def progress(done, total):
            calls.append(done)
            if done == 2:
                raise ValueError("stop here")

        with self.assertRaisesRegex(ValueError, "stop here"):
            self.up.upscale(self.big, progress=progress)
        self.assertEqual(calls, [1, 2])

    def test_cancel_from_another_thread(self):
        started, cancelled = threading.Event(), threading.Event()
        calls = []

        def canceller():
            started.wait(60)
            self.up.cancel()
            cancelled.set()

        def progress(done, total):
            calls.append((done, total))
            started.set()
            cancelled.wait(60)  # the next tile sees the cancel

        t = threading.Thread(target=canceller)
        t.start()
        with self.assertRaises(yamiro.Interrupted):
            self.up.upscale(self.big, progress=progress)
        t.join()
        self.assertLess(len(calls), calls[0][1])
        # The upscaler goes on working afterwards.
        self.assertEqual(self.up.upscale(noise((8, 8, 3), np.uint8, 0)).shape, (32, 32, 3))

    def test_sigint_from_a_thread_is_keyboard_interrupt(self):
        first_tile = threading.Event()
        calls = []

        def progress(done, total):
            calls.append((done, total))
            first_tile.set()

        def interrupter():
            first_tile.wait(60)
            os.kill(os.getpid(), signal.SIGINT)

        old = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            t = threading.Thread(target=interrupter)
            t.start()
            with self.assertRaises(KeyboardInterrupt):
                self.up.upscale(self.big, progress=progress)
            t.join()
        finally:
            signal.signal(signal.SIGINT, old)
        self.assertLess(len(calls), calls[0][1])

    def test_alarm_without_callback_interrupts_inference(self):
        # No Python code runs during the upscale: the signal is seen by the poll after a tile.
        up = yamiro.Upscaler(model=MODEL, tile=16, tile_pad=2, threads=1)
        huge = noise((512, 512, 3), np.uint8, 12)  # 1024 tiles: far longer than the alarm
        fired = []

        def on_alarm(signum, frame):
            fired.append(signum)
            raise KeyboardInterrupt("alarm")

        old = signal.signal(signal.SIGALRM, on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            with self.assertRaises(KeyboardInterrupt):
                up.upscale(huge)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        self.assertEqual(fired, [signal.SIGALRM])

    def test_file_interrupted(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "big.png"), os.path.join(d, "out.png")
            yamiro.write_image(self.big, src)

            def progress(done, total):
                if done == 3:
                    raise KeyboardInterrupt

            with self.assertRaises(KeyboardInterrupt):
                self.up.upscale_file(src, dst, progress=progress)
            self.assertEqual(os.listdir(d), ["big.png"])  # nothing half-written


if __name__ == "__main__":
    unittest.main()
