#!/usr/bin/env bash
# Batch throughput (issue: image workflow): a folder of COUNT photos of 512x512 upscaled
# by MODEL, images/s of the pipelined folder run against pure inference, i.e. the sum of
# COUNT single-image inference times from `yamiro bench --latency` at the same size and
# tile. This VM's speed drifts by up to 2x within a minute, so the two are interleaved:
# bench, batch, bench, batch, ..., bench; each batch is compared with the mean of the
# bench runs just before and after it, and the median over ROUNDS rounds is the figure.
# Takes about 40 s a round on 2 cores.
# Usage: bench/batch.sh [MODEL] [COUNT] [FORMAT] [ROUNDS]   (FORMAT png|jpg|webp|tif)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-realesrgan-x4fast}
count=${2:-16}
format=${3:-png}
rounds=${4:-5}
y=./build/yamiro
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
# COUNT different 512x512 RGB crops of a real photo (baboon.jpg upscaled x4 by yamiro).
$y -q upscale /usr/share/doc/opencv-doc/examples/data/baboon.jpg -o "$work/src.png" -m "$model"
for i in $(seq 0 $((count - 1))); do
  x=$(( (i % 4) * 512 )); yy=$(( (i / 4 % 4) * 512 ))
  ./build/tests/yamiro_crop "$work/src.png" "$work/in/img$(printf %02d "$i").png" "$x" "$yy" 512 512
done

# Sum of COUNT single-image inference times: bench's median of COUNT repeats (after one
# warm-up) times COUNT. The median, not the mean: a stall of the VM during the bench then
# does not make pure inference look slower (the batch gets no such filter, so the ratio
# errs against the batch).
pure() {
  $y bench --latency -m "$model" --sizes 512 --warmup 1 --repeats "$count" --json "$work/bench.json" 2> /dev/null
  python3 -c "import json; s=json.load(open('$work/bench.json'))['latency'][0]['rows'][0]['seconds']; print(s['median'] * s['count'])"
}
# Wall time of the pipelined folder run (decode, inference, encode), from its summary line.
batch() {
  rm -rf "$work/out"
  $y upscale "$work/in" -o "$work/out" --format "$format" -m "$model" --json > "$work/batch.jsonl" 2> /dev/null
  python3 -c "
import json
rows = [json.loads(l) for l in open('$work/batch.jsonl')]
assert sum(1 for r in rows if r.get('status') == 'done') == $count, 'not every image was written'
print(rows[-1]['seconds'])"
}

p_prev=$(pure)
results=()
for r in $(seq 1 "$rounds"); do
  b=$(batch)
  p_next=$(pure)
  results+=("$p_prev $b $p_next")
  p_prev=$p_next
done
python3 - "$count" "$format" "${results[@]}" <<'PY'
import statistics, sys
n, fmt = int(sys.argv[1]), sys.argv[2]
ratios = []
for i, row in enumerate(sys.argv[3:], 1):
    before, batch, after = map(float, row.split())
    pure = (before + after) / 2
    ratios.append(pure / batch)
    print(f"round {i}: pure inference {before:.2f} s / {after:.2f} s (before / after) for {n} images, "
          f"pipelined batch ({fmt} out) {batch:.2f} s: {n / pure:.3f} vs {n / batch:.3f} images/s = {100 * pure / batch:.1f} %")
print(f"batch / pure inference, median of {len(ratios)} rounds: {100 * statistics.median(ratios):.1f} % "
      f"(range {100 * min(ratios):.1f}-{100 * max(ratios):.1f} %)")
PY
