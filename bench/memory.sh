#!/usr/bin/env bash
# Peak resident memory of a tiled 2048x2048 upscale (SPEC §9 memory bar), measured with
# /usr/bin/time -v, against input + output image sizes. Usage: bench/memory.sh [MODEL] [TILE]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-realesrgan-x4fast}
tile=${2:-256}
y=./build/yamiro
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A real 2048x2048 photo: chicky_512.png upscaled x4 by yamiro itself.
$y -q upscale /usr/share/doc/opencv-doc/examples/data/chicky_512.png -o "$work/in2048.png"
/usr/bin/time -v $y -q upscale "$work/in2048.png" -o "$work/out.png" -m "$model" --tile "$tile" 2> "$work/time.txt"
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
# Baseline process: the same binary loading the model and doing a tiny image.
/usr/bin/time -v $y -q upscale tests/data/fixtures/rgb48x60.png -o "$work/tiny.png" -m "$model" --tile "$tile" 2> "$work/time0.txt" || true
base_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time0.txt")
in_mb=$(( 2048 * 2048 * 3 / 1048576 ))
out_mb=$(( 8192 * 8192 * 3 / 1048576 ))
echo "model $model, tile $tile: peak RSS $((rss_kb / 1024)) MiB; process with model and a 48x60 image: $((base_kb / 1024)) MiB"
echo "input image $in_mb MiB + output image $out_mb MiB = $((in_mb + out_mb)) MiB; the rest is the tile working set, encoder and runtime"
