"""Where the GPU time goes in realesrgan-x4fast's network (SRVGGNetCompact, 32 convs,
64 features, x4), run by scripts/gpu-check.sh on the GPU machine with its PyTorch.

Random weights (speed does not depend on them). Prints the bare forward's output Mpx/s
per input size, batch and layout (the ceiling for yamiro's end-to-end figure), and the
CUDA kernels that take the time at 512x512 from torch.profiler.
"""
import time

import torch
import torch.nn.functional as F

torch.backends.cudnn.benchmark = True
dev = torch.device("cuda")
dtype = torch.float16
g = torch.Generator().manual_seed(0)
convs = [(torch.randn(64, 3, 3, 3, generator=g) * 0.1, torch.zeros(64))]
convs += [(torch.randn(64, 64, 3, 3, generator=g) * 0.03, torch.zeros(64)) for _ in range(32)]
convs += [(torch.randn(48, 64, 3, 3, generator=g) * 0.03, torch.zeros(48))]
prelus = [torch.full((64,), 0.25) for _ in range(33)]


def place(cl):
    fmt = torch.channels_last if cl else torch.contiguous_format
    c = [(w.to(dev, dtype).contiguous(memory_format=fmt), b.to(dev, dtype)) for w, b in convs]
    p = [w.to(dev, dtype) for w in prelus]
    return c, p


def forward(x, c, p, inplace_tail=True):
    out = x
    for i, (w, b) in enumerate(c):
        out = F.conv2d(out, w, b, padding=1)
        if i < len(p):
            out = F.prelu(out, p[i])
    up = F.pixel_shuffle(out, 4)
    base = F.interpolate(x, scale_factor=4, mode="nearest")
    return up.add_(base) if inplace_tail else up + base


def bench(size, batch, cl, body_only=False, reps=20):
    c, p = place(cl)
    x = torch.rand(batch, 3, size, size, device=dev, dtype=dtype)
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)

    def run():
        if body_only:
            out = x
            for i, (w, b) in enumerate(c):
                out = F.conv2d(out, w, b, padding=1)
                if i < len(p):
                    out = F.prelu(out, p[i])
            return out
        return forward(x, c, p)

    with torch.inference_mode():
        for _ in range(3):
            run()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(reps):
            run()
        torch.cuda.synchronize()
        dt = (time.perf_counter() - t0) / reps
    mpx = batch * size * size * 16 / dt / 1e6
    print(f"size {size:5d} batch {batch} {'CL  ' if cl else 'NCHW'} {'body' if body_only else 'full'}: "
          f"{dt * 1e3:8.2f} ms  {mpx:8.1f} out Mpx/s", flush=True)


for size, batch in [(256, 1), (256, 4), (512, 1), (512, 4), (1024, 1)]:
    for cl in (True, False):
        bench(size, batch, cl)
bench(512, 1, True, body_only=True)
bench(512, 1, False, body_only=True)

from torch.profiler import ProfilerActivity, profile

c, p = place(True)
x = torch.rand(1, 3, 512, 512, device=dev, dtype=dtype).contiguous(memory_format=torch.channels_last)
with torch.inference_mode():
    for _ in range(3):
        forward(x, c, p)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            forward(x, c, p)
        torch.cuda.synchronize()
print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=14, max_name_column_width=60))
