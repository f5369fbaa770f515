#!/usr/bin/env bash
# Batch throughput (issue: image workflow): a folder of 16 photos of 512x512 upscaled by
# realesrgan-x4fast, images/s of the whole batch against pure inference speed from
# `yamiro bench --latency` at the same size, measured in the same run.
# Pure inference is measured before and after the batch (this machine's speed drifts) and
# averaged. Usage: bench/batch.sh [MODEL] [COUNT] [FORMAT]   (FORMAT png|jpg|webp|tif, default png)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-realesrgan-x4fast}
count=${2:-16}
format=${3:-png}
y=./build/yamiro
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
# 16 different 512x512 RGB crops of a real photo (baboon.jpg upscaled x4 by yamiro).
$y -q upscale /usr/share/doc/opencv-doc/examples/data/baboon.jpg -o "$work/src.png" -m "$model"
for i in $(seq 0 $((count - 1))); do
  x=$(( (i % 4) * 512 )); yy=$(( (i / 4) * 512 ))
  ./build/tests/yamiro_crop "$work/src.png" "$work/in/img$(printf %02d "$i").png" "$x" "$yy" 512 512
done
pure() {
  $y bench --latency -m "$model" --sizes 512 --warmup 1 --repeats 5 --json "$work/bench.json" 2> "$work/bench.txt"
  python3 -c "import json; print(json.load(open('$work/bench.json'))['latency'][0]['rows'][0]['seconds']['median'])"
}
before=$(pure)
$y upscale "$work/in" -o "$work/out" --format "$format" -m "$model" --json > "$work/batch.jsonl" 2> "$work/batch.txt"
after=$(pure)
infer=$(python3 -c "print(($before + $after) / 2)")
echo "pure inference median before/after the batch: $before s / $after s"
# The same images one at a time: the network's own time on these images (infer_seconds),
# then the pipelined batch again, so both are measured back to back.
$y upscale "$work/in" -o "$work/seq" --format "$format" -m "$model" --json --sequential > "$work/seq.jsonl" 2>/dev/null
rm -rf "$work/out"
$y upscale "$work/in" -o "$work/out" --format "$format" -m "$model" --json > "$work/batch2.jsonl" 2>/dev/null
python3 - "$work/seq.jsonl" "$work/batch2.jsonl" <<'PY'
import json, sys
seq = [json.loads(l) for l in open(sys.argv[1])]
bat = [json.loads(l) for l in open(sys.argv[2])]
infer = sum(r.get("infer_seconds", 0) for r in seq if "input" in r)
wall_seq, wall_bat = seq[-1]["seconds"], bat[-1]["seconds"]
n = sum(1 for r in bat if r.get("status") == "done")
print(f"same images one at a time: {wall_seq:.2f} s, of which network {infer:.2f} s; pipelined: {wall_bat:.2f} s")
print(f"pipelined batch / pure network time on the same images: {100 * infer / wall_bat:.1f} %")
PY
batch=$(python3 -c "
import json
rows=[json.loads(l) for l in open('$work/batch.jsonl')]
print(rows[-1]['seconds'])")
python3 - "$infer" "$batch" "$count" "$format" <<'PY'
import sys
infer, batch, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
pure = 1.0 / infer
got = n / batch
print(f"pure inference (bench median {infer:.3f} s per 512x512): {pure:.3f} images/s")
print(f"batch of {n} (decode + inference + encode pipelined, {sys.argv[4]} out): {batch:.2f} s = {got:.3f} images/s")
print(f"batch / pure inference: {100 * got / pure:.1f} %")
PY
