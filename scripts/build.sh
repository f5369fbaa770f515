#!/usr/bin/env bash
# Configures and builds yamiro (Release, Ninja, ccache when present) into ./build.
# Extra arguments go to cmake's configure step, e.g. -DYAMIRO_WITH_FFMPEG=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ "$#" -gt 0 ]; then
  cmake -S . -B build "$@"
fi
cmake --build build -j "$(nproc)"
