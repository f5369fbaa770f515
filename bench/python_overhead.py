"""Python call overhead against the C++ call (issue 16): one Upscaler, a 256x256 RGB uint8
image, `up.upscale(array)` timed from Python against the same upscale_one timed inside C++
(Upscaler._time_cpp), interleaved in one run. Prints medians and the difference.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [MODEL] [ROUNDS]
"""
import statistics
import sys
import time

import numpy as np

import yamiro

model = sys.argv[1] if len(sys.argv) > 1 else "tests/data/fixtures/compact-x4-nc4-nf16.param"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
up = yamiro.Upscaler(model=model, precision="fp32", tile=0)
a = np.random.default_rng(0).integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
up.upscale(a)  # warm-up
py_s, cpp_s = [], []
for _ in range(rounds):
    t0 = time.perf_counter()
    up.upscale(a)
    py_s.append(time.perf_counter() - t0)
    cpp_s.extend(up._time_cpp(a, 1))
mp, mc = statistics.median(py_s), statistics.median(cpp_s)
print(f"model {up.arch} on {up.device} ({up.precision}, {up.threads} threads), 256x256 RGB uint8, {rounds} rounds")
print(f"python upscale(): median {mp * 1e3:.2f} ms; C++ upscale_one: median {mc * 1e3:.2f} ms; "
      f"overhead {(mp - mc) * 1e3:+.2f} ms ({(mp / mc - 1) * 100:+.1f} %)")
