#!/usr/bin/env bash
# The GPU machine check (see shared/GPU.md): builds yamiro with OpenCV and FFmpeg off
# against that machine's PyTorch LibTorch (CUDA), runs the unit and golden tests (on the
# CPU, then the goldens on CUDA), `info`, and `bench` (latency with the side-by-side
# baseline, batch 1 and 4, fp16 and fp32; a short throughput/thermal run), writing
# everything under $OUT.
# Before sending: bash scripts/prepare-gpu-check.sh (copies Debian's spdlog/fmt headers,
# GoogleTest sources and the fetched models into third_party/gpu/), then run
# with  carry: ["third_party/gpu"]  command: bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/yamiro-gpu-out}
mkdir -p "$OUT"
V=third_party/gpu
T0=$(date +%s)
stamp() { echo "== $1 ($(( $(date +%s) - T0 )) s)" | tee -a "$OUT/steps.txt"; }
TP=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
TL=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
TV=$(python3 -c "import torch; print(torch.__version__)")
export LD_LIBRARY_PATH="$TL:${LD_LIBRARY_PATH:-}"
export YAMIRO_MODELS="$PWD/$V/models"
# LibTorch 2.12 and later need C++20 in the translation units that include ATen.
STD=17
python3 -c "import torch,sys; v=tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(0 if v>=(2,12) else 1)" && STD=20
{ nvidia-smi; echo "torch $TV, C++$STD"; nproc; } > "$OUT/machine.txt" 2>&1
stamp "configure + build (torch $TV, C++$STD)"
{
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DCMAKE_CXX_STANDARD=$STD \
    -DYAMIRO_WITH_OPENCV=OFF -DYAMIRO_WITH_FFMPEG=OFF -DYAMIRO_SPDLOG_HEADER_ONLY=ON \
    -DYAMIRO_VENDOR_HEADERS="$PWD/$V/include" -DYAMIRO_GTEST_SOURCE="$PWD/$V/googletest" &&
  cmake --build build-gpu -j "$(nproc)" --target yamiro yamiro_unit_tests -- -k 0
} > "$OUT/build.log" 2>&1 || { grep -E "error|Error" "$OUT/build.log" | head -60; stamp "build failed"; exit 1; }
stamp "info"
timeout 60 ./build-gpu/yamiro info > "$OUT/info.txt" 2>&1; cat "$OUT/info.txt"
timeout 60 ./build-gpu/yamiro info --json > "$OUT/info.json" 2>&1
stamp "golden tests on the CPU (this LibTorch)"
timeout 60 ./build-gpu/tests/yamiro_unit_tests --gtest_filter='*Golden*:TorchScript.*:Winograd*:SwinIR*' > "$OUT/unit-cpu.txt" 2>&1; echo "rc=$?" >> "$OUT/unit-cpu.txt"
grep -E "FAILED|PASSED|rc=" "$OUT/unit-cpu.txt" | tail -15
stamp "golden + engine tests on CUDA (fp32 without TF32)"
YAMIRO_TEST_DEVICE=cuda timeout 90 ./build-gpu/tests/yamiro_unit_tests --gtest_filter='*Golden*:Engine.*:TorchScript.*:SwinIR*' \
  > "$OUT/unit-cuda.txt" 2>&1; echo "rc=$?" >> "$OUT/unit-cuda.txt"
grep -E "FAILED|PASSED|OK \]|rc=" "$OUT/unit-cuda.txt" | tail -40
Y=./build-gpu/yamiro
if [ -n "${QUICK:-}" ]; then  # QUICK=1: build, tests and one latency row only
  timeout 60 $Y bench --latency -m realesrgan-x4fast --device cuda --precision fp16 --sizes 512 --warmup 2 --repeats 5 \
    --baseline 2>&1 | tee "$OUT/bench-quick.txt"
  stamp "done (quick)"; exit 0
fi
stamp "bench latency x4fast fp16 (tile auto, batch 1/4, baseline)"
timeout 90 $Y bench --latency -m realesrgan-x4fast --device cuda --precision fp16 --batch 1,4 \
  --sizes 256,512,1024 --warmup 2 --repeats 7 --baseline --json "$OUT/bench-x4fast-fp16.json" 2>&1 | tee "$OUT/bench-x4fast-fp16.txt"
stamp "bench latency x4fast fp16 tile 256"
timeout 60 $Y bench --latency -m realesrgan-x4fast --device cuda --precision fp16 --batch 1,4 --tile 256 \
  --sizes 512,1024 --warmup 2 --repeats 7 --json "$OUT/bench-x4fast-fp16-t256.json" 2>&1 | tee "$OUT/bench-x4fast-fp16-t256.txt"
stamp "bench latency x4plus fp16 + fp32 (baseline)"
timeout 100 $Y bench --latency -m realesrgan-x4plus --device cuda --precisions fp16,fp32 --batch 1 \
  --sizes 256,512 --warmup 2 --repeats 5 --baseline --json "$OUT/bench-x4plus.json" 2>&1 | tee "$OUT/bench-x4plus.txt"
stamp "bench throughput + thermal x4fast 512 fp16"
timeout 40 $Y bench --throughput --thermal -m realesrgan-x4fast --device cuda --precision fp16 --batch 4 --sizes 512 \
  --duration 8 --json "$OUT/bench-throughput.json" 2>&1 | tee "$OUT/bench-throughput.txt"
stamp "bench memory x4fast fp16 (tiled 256 vs untiled)"
timeout 60 $Y bench --memory -m realesrgan-x4fast --device cuda --precision fp16 --tile 256 --sizes 512,1024,2048 \
  --untiled-max 2048 --json "$OUT/bench-memory.json" 2>&1 | tee "$OUT/bench-memory.txt"
stamp "PyTorch profile of the x4fast network (bench/gpu_profile.py)"
[ -n "${SKIP_PROFILE:-}" ] || timeout 90 python3 bench/gpu_profile.py > "$OUT/gpu-profile.txt" 2>&1; cat "$OUT/gpu-profile.txt"
stamp "done"
