#!/usr/bin/env bash
# Segment overhead: one video upscaled in one run, then as N pieces (--segment, run one
# after the other so that they do not share the CPU) and joined (--join). Prints the single
# run's seconds, the pieces' seconds summed (their plan scans and keyframe seeks included),
# the join's seconds, and each piece's end-to-end fps next to the pure-inference fps
# (`yamiro bench --latency` on frames of the same size) measured in the same run.
# Usage: bench/video-segments.sh [PIECES] [MODEL] [extra yamiro engine flags...]
#   YAMIRO_BENCH_CLIP: the video (default: opencv-doc's Megamind.avi, 270 frames of
#   packed-B-frame MPEG-4 at 720x528); YAMIRO_BENCH_WIDTH/HEIGHT: the frame size of the
#   pure-inference row (default: the clip's, from the single run). Defaults: 3 pieces, the
#   x2 test fixture at --outscale 1, FFV1 output (so that the joined file can be compared
#   pixel for pixel). Writes bench/results/video-segments.json.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
model=${2:-tests/data/fixtures/compact-x2-nc2-nf8.safetensors}
shift $(( $# > 2 ? 2 : $# )) || true
extra=("$@")
clip=${YAMIRO_BENCH_CLIP:-/usr/share/doc/opencv-doc/examples/data/Megamind.avi}
[ -f "$clip" ] || { echo "video-segments: $clip: no such file (set YAMIRO_BENCH_CLIP)" >&2; exit 1; }
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
# At --outscale 1 the output is the input's size: the frame size the network ran on.
size=$(python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(j["width"], j["height"])' "$tmp/single.json")
width=${YAMIRO_BENCH_WIDTH:-${size% *}}
height=${YAMIRO_BENCH_HEIGHT:-${size#* }}
"$bin" -q bench --latency -m "$model" --sizes "$width" --height "$height" --warmup 1 --repeats 3 "${extra[@]}" --json "$tmp/pure.json" >/dev/null

python3 - "$tmp" "$n" "$out/video-segments.json" "$clip" "$model" "$width" "$height" "$(uptime)" <<'PY'
import json, sys
tmp, n, dest, clip, model, width, height, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:9]
summary = lambda f: json.loads(open(f).read().splitlines()[-1])  # after the progress lines
single = summary(f"{tmp}/single.json")
parts = [summary(f"{tmp}/p{i}.json") for i in range(n)]
join = summary(f"{tmp}/join.json")
row = json.load(open(f"{tmp}/pure.json"))["latency"][0]["rows"][0]
pure = 1.0 / row["seconds"]["median"]
summed = sum(p["seconds"] for p in parts)
res = {"clip": clip, "model": model, "frame_size": f"{width}x{height}", "load": load.strip(),
       "pieces": n, "single_seconds": single["seconds"], "pieces_seconds_summed": summed,
       "join_seconds": join["seconds"], "overhead": summed / single["seconds"] - 1,
       "frames": single["frames"], "joined_frames": join["frames"], "pure_inference_fps": pure,
       "piece_frames": [p["frames"] for p in parts],
       "piece_fps": [p["frames"] / p["seconds"] for p in parts],
       "piece_network_fps": [p["frames"] / p["infer_seconds"] if p.get("infer_seconds") else None for p in parts],
       "single_fps": single["fps"]}
json.dump(res, open(dest, "w"), indent=1)
print(f"clip {clip} ({width}x{height}), model {model}; {load.strip()}")
print(f"single run      {single['seconds']:8.1f} s  {single['fps']:.2f} fps ({single['frames']} frames)")
print(f"{n} pieces summed {summed:8.1f} s  overhead {100 * res['overhead']:+.1f} %")
print(f"join            {join['seconds']:8.2f} s  ({join['frames']} frames)")
print(f"{'':10} {'frames':>6} {'end to end fps':>15} {'network fps':>12} {'pure inference fps':>19} {'e2e / pure':>10}")
for i, p in enumerate(parts):
    net = res["piece_network_fps"][i]
    e2e = res["piece_fps"][i]
    print(f"piece {i:<4} {p['frames']:>6} {e2e:>15.2f} {net if net else float('nan'):>12.2f} {pure:>19.2f} {100 * e2e / pure:>9.1f}%")
PY
