#!/usr/bin/env bash
# Batch throughput (issue: image workflow): a folder of 16 photos of 512x512 upscaled by
# realesrgan-x4fast, images/s of the whole batch against pure inference speed from
# `yamiro bench --latency` at the same size, measured in the same run.
# Usage: bench/batch.sh [MODEL] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-realesrgan-x4fast}
count=${2:-16}
y=./build/yamiro
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
# 16 different 512x512 crops of real photos (fruits.jpg, upscaled by yamiro where needed).
$y -q upscale /usr/share/doc/opencv-doc/examples/data/chicky_512.png -o "$work/src.png" -m "$model"
for i in $(seq 0 $((count - 1))); do
  x=$(( (i % 4) * 512 )); yy=$(( (i / 4) * 512 ))
  ./build/tests/yamiro_crop "$work/src.png" "$work/in/img$(printf %02d "$i").png" "$x" "$yy" 512 512
done
$y bench --latency -m "$model" --sizes 512 --warmup 1 --repeats 5 --json "$work/bench.json" 2> "$work/bench.txt"
infer=$(python3 -c "import json; print(json.load(open('$work/bench.json'))['latency'][0]['seconds']['median'])")
$y upscale "$work/in" -o "$work/out" -m "$model" --json > "$work/batch.jsonl" 2> "$work/batch.txt"
batch=$(python3 -c "
import json
rows=[json.loads(l) for l in open('$work/batch.jsonl')]
print(rows[-1]['seconds'])")
python3 - "$infer" "$batch" "$count" <<'PY'
import sys
infer, batch, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
pure = 1.0 / infer
got = n / batch
print(f"pure inference (bench median {infer:.3f} s per 512x512): {pure:.3f} images/s")
print(f"batch of {n} (decode + inference + encode pipelined): {batch:.2f} s = {got:.3f} images/s")
print(f"batch / pure inference: {100 * got / pure:.1f} %")
PY
