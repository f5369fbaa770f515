#!/usr/bin/env bash
# Gathers what the GPU machine lacks into third_party/gpu/ (git-ignored), to be sent with
# the device tool's `carry`: Debian's spdlog + fmt headers (PyTorch's bundled fmt breaks
# the machine's spdlog), GoogleTest sources and the built-in models. The test fixtures are
# in the repository (tests/data/fixtures) and travel with the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
V=third_party/gpu
rm -rf "$V" && mkdir -p "$V/include" "$V/models"
cp -r /usr/include/spdlog /usr/include/fmt "$V/include/"
cp -r /usr/src/googletest "$V/googletest"
src="${YAMIRO_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/yamiro/models}"
cp "$src"/realesrgan-x4*.{param,bin} "$V/models/"
du -sh "$V"
