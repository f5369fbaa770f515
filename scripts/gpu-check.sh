#!/usr/bin/env bash
# The GPU machine check (see DEVELOPERS.md / shared/GPU.md): builds yamiro with OpenCV and
# FFmpeg off against that machine's PyTorch LibTorch (CUDA), runs the engine and golden
# unit tests, `info`, and `bench --latency` in fp16 at batch 1 and 4 for both built-in
# models, writing everything under $OUT.
# Before sending: bash scripts/prepare-gpu-check.sh (copies Debian's spdlog/fmt headers,
# GoogleTest sources and the fetched models into third_party/gpu/), then run with
#   carry: ["third_party/gpu"]   command: bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/yamiro-gpu-out}
mkdir -p "$OUT"
V=third_party/gpu
TP=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
TL=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
export LD_LIBRARY_PATH="$TL:${LD_LIBRARY_PATH:-}"
export YAMIRO_MODELS="$PWD/$V/models"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/nvidia-smi.csv" 2>&1
{
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" \
    -DYAMIRO_WITH_OPENCV=OFF -DYAMIRO_WITH_FFMPEG=OFF -DYAMIRO_SPDLOG_HEADER_ONLY=ON \
    -DYAMIRO_VENDOR_HEADERS="$PWD/$V/include" -DYAMIRO_GTEST_SOURCE="$PWD/$V/googletest" \
    -DYAMIRO_FIXTURES="$PWD/$V/fixtures" &&
  cmake --build build-gpu -j 16
} > "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }
./build-gpu/yamiro info --json > "$OUT/info.json" 2>&1; cat "$OUT/info.json"
./build-gpu/tests/yamiro_unit_tests --gtest_output=json:"$OUT/unit.json" > "$OUT/unit.txt" 2>&1
tail -5 "$OUT/unit.txt"
# Goldens on the GPU in fp32 through the CLI-less engine tests above; speed below.
for m in realesrgan-x4fast realesrgan-x4plus; do
  ./build-gpu/yamiro bench --latency -m "$m" --device cuda --precision fp16 --batch 1,4 --tile 256 \
    --sizes 256,512,1024 --warmup 2 --repeats 5 --baseline --json "$OUT/bench-$m.json" 2>&1 | tee -a "$OUT/bench.txt"
done
