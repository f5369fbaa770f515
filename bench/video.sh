#!/usr/bin/env bash
# Video pipeline efficiency: end-to-end frames/s of `yamiro video` (demux, decode, RGB,
# network, conversion, x264, mux) against the pure-inference frames/s that
# `yamiro bench --latency` measures on frames of the same size, same model and settings,
# in the same run. Pure inference is measured before and after the video, and the mean is
# the reference, so that a change in machine load shows up as a gap between the two.
# Usage: bench/video.sh [FRAMES] [MODEL] [extra yamiro engine flags...]
#   defaults: 24 frames of Megamind.avi (720x528, opencv-doc), realesrgan-x4fast
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-24}
model=${2:-realesrgan-x4fast}
shift $(( $# > 2 ? 2 : $# )) || true
extra=("$@")
clip=${YAMIRO_BENCH_CLIP:-/usr/share/doc/opencv-doc/examples/data/Megamind.avi}
out=bench/results
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=./build/yamiro
tag="$model"

pure() {  # $1 = json file
  "$bin" -q bench --latency -m "$model" --sizes 720 --height 528 --warmup 1 --repeats 3 "${extra[@]}" --json "$1" >/dev/null
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["latency"][0]["rows"][0]; print(1.0/r["seconds"]["median"])' "$1"
}

echo "== pure inference, 720x528, $model (before)"
before=$(pure "$tmp/before.json")
echo "== yamiro video, first $frames frames of $(basename "$clip")"
"$bin" -q --no-progress video "$clip" -o "$tmp/out.mp4" -m "$model" --frames "$frames" "${extra[@]}" --json >"$tmp/video.json"
echo "== pure inference, 720x528, $model (after)"
after=$(pure "$tmp/after.json")

python3 - "$tmp/video.json" "$before" "$after" "$out/video-$tag.json" "$tmp/before.json" <<'PY'
import json, sys
v = json.loads(open(sys.argv[1]).read().splitlines()[-1])  # the summary, after the progress lines
before, after = float(sys.argv[2]), float(sys.argv[3])
pure = (before + after) / 2
e2e = v["frames"] / v["seconds"]
bench = json.load(open(sys.argv[5]))
res = {
    "clip_frames": v["frames"], "frame_in": "720x528", "frame_out": f'{v["width"]}x{v["height"]}',
    "codec": v["codec"], "model": bench["model"], "precision": bench["precision"], "threads": bench["threads"],
    "tile": bench["latency"][0]["rows"][0]["tile"],
    "pure_inference_fps_before": before, "pure_inference_fps_after": after, "pure_inference_fps": pure,
    "end_to_end_fps": e2e, "end_to_end_seconds": v["seconds"], "network_seconds_in_video": v["infer_seconds"],
    "network_fps_inside_video": v["frames"] / v["infer_seconds"],
    "ratio": e2e / pure, "target": 0.85,
    "cpu": bench["system"]["cpu"]["model"], "cpus": bench["system"]["cpu"]["cpus_available"],
}
json.dump(res, open(sys.argv[4], "w"), indent=1)
print(f'pure inference: {pure:.3f} frames/s (before {before:.3f}, after {after:.3f}); tile {res["tile"]}, {res["precision"]}')
print(f'end to end:     {e2e:.3f} frames/s ({v["frames"]} frames in {v["seconds"]:.1f} s; network {v["infer_seconds"]:.1f} s of it, '
      f'{res["network_fps_inside_video"]:.3f} frames/s)')
print(f'ratio:          {100 * e2e / pure:.1f} % (target >= 85 %)')
PY
