#!/usr/bin/env bash
# Everything on a fresh Debian 12 machine: packages, build, built-in models, then a sample
# upscale (butterfly.png from opencv-doc -> ./butterfly_x4.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/fetch-models.sh
./build/yamiro upscale /usr/share/doc/opencv-doc/examples/dnn_superres/butterfly.png -o butterfly_x4.png --overwrite
echo "install: done; the sample is ./butterfly_x4.png, the binary ./build/yamiro"
