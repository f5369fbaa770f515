#!/usr/bin/env bash
# PNG encoding: yamiro's encoder against OpenCV's PNG writer at its default (fastest)
# setting, one thread, interleaved run by run (tests/tools/png_speed.cpp), on real
# upscaled outputs: a photo (baboon.jpg x4, 2048x2048 RGB), a photo with flat background
# (butterfly.jpg x4) and flat art with alpha (opencv-logo.png x4, RGBA). Exits non-zero
# if libpng reads back different pixels from the two files.
# Usage: bench/png.sh [RUNS]   (default 9)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-9}
y=./build/yamiro
d=/usr/share/doc/opencv-doc/examples/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for f in baboon.jpg butterfly.jpg opencv-logo.png; do
  $y -q upscale "$d/$f" -o "$work/${f%.*}_x4.png"
  ./build/tests/yamiro_png_speed "$work/${f%.*}_x4.png" "$runs" || status=1
done
exit $status
