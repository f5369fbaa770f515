#!/usr/bin/env bash
# Segment overhead: one video upscaled in one run, then as N pieces (--segment, run one
# after the other so that they do not share the CPU) and joined (--join). Prints the single
# run's seconds, the pieces' seconds summed (their plan scans and keyframe seeks included),
# the join's seconds, and each piece's end-to-end fps next to the pure-inference fps
# (`yamiro bench --latency` on frames of the same size) measured in the same run.
# Usage: bench/video-segments.sh [PIECES] [MODEL] [extra yamiro engine flags...]
#   YAMIRO_BENCH_CLIP (required): a video whose packets each give one frame (not a
#   packed-B-frame AVI such as Megamind.avi); YAMIRO_BENCH_WIDTH/HEIGHT: its frame size
#   for the pure-inference row (default 720x528). Defaults: 3 pieces, the x2 test fixture
#   at --outscale 1, FFV1 output (so that the joined file can be compared pixel for pixel).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
model=${2:-tests/data/fixtures/compact-x2-nc2-nf8.safetensors}
shift $(( $# > 2 ? 2 : $# )) || true
extra=("$@")
clip=${YAMIRO_BENCH_CLIP:?a video to cut (not a packed-B-frame AVI such as Megamind.avi)}
out=bench/results
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=./build/yamiro
flags=(-m "$model" --outscale 1 --codec ffv1 --no-progress "${extra[@]}")

"$bin" -q video "$clip" -o "$tmp/single.mkv" "${flags[@]}" --json >"$tmp/single.json"
parts=()
for ((i = 0; i < n; i++)); do
  "$bin" -q video "$clip" --segment "$i/$n" -o "$tmp/p$i.mkv" "${flags[@]}" --json >"$tmp/p$i.json"
  parts+=("$tmp/p$i.mkv")
done
"$bin" -q video "$clip" --join "${parts[@]}" -o "$tmp/joined.mkv" --json >"$tmp/join.json"
"$bin" -q bench --latency -m "$model" --sizes "${YAMIRO_BENCH_WIDTH:-720}" --height "${YAMIRO_BENCH_HEIGHT:-528}" --warmup 1 --repeats 3 "${extra[@]}" --json "$tmp/pure.json" >/dev/null

python3 - "$tmp" "$n" "$out/video-segments.json" <<'PY'
import json, sys
tmp, n, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
summary = lambda f: json.loads(open(f).read().splitlines()[-1])  # after the progress lines
single = summary(f"{tmp}/single.json")
parts = [summary(f"{tmp}/p{i}.json") for i in range(n)]
join = summary(f"{tmp}/join.json")
row = json.load(open(f"{tmp}/pure.json"))["latency"][0]["rows"][0]
pure = 1.0 / row["seconds"]["median"]
summed = sum(p["seconds"] for p in parts)
res = {"pieces": n, "single_seconds": single["seconds"], "pieces_seconds_summed": summed,
       "join_seconds": join["seconds"], "overhead": summed / single["seconds"] - 1,
       "frames": single["frames"], "joined_frames": join["frames"], "pure_inference_fps": pure,
       "piece_fps": [p["frames"] / p["seconds"] for p in parts], "single_fps": single["fps"]}
json.dump(res, open(dest, "w"), indent=1)
print(f"single run      {single['seconds']:8.1f} s  {single['fps']:.2f} fps ({single['frames']} frames)")
print(f"{n} pieces summed {summed:8.1f} s  overhead {100 * res['overhead']:+.1f} %")
print(f"join            {join['seconds']:8.2f} s  ({join['frames']} frames)")
for i, p in enumerate(parts):
    print(f"piece {i}: {p['frames']} frames, {p['frames'] / p['seconds']:.2f} fps end to end; pure inference {pure:.2f} fps")
PY
