#!/usr/bin/env bash
# The installed package in use (issue 16): installs the build into a temporary prefix,
# configures and builds tests/consumer against it, runs it on a fixture image with a fixture
# model and checks its PNG has the bytes `yamiro upscale` writes (the installed binary and the
# build's). Also checks the pkg-config file and the installed layout.
#   run.sh BUILD_DIR FIXTURES
set -euo pipefail
# Precision auto without the per-machine measurement: the runs compared here must not pick
# different paths because one of them measured again on a busy machine.
export YAMIRO_PROBE=0
build=$(cd "$1" && pwd)
fixtures=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
# lib, or Debian's multiarch lib/x86_64-linux-gnu when the build is configured for /usr.
lib=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
lib=${lib:-lib}
for f in bin/yamiro include/yamiro/engine.hpp $lib/libyamiro.a $lib/cmake/yamiro/yamiroConfig.cmake \
         $lib/cmake/yamiro/yamiroConfigVersion.cmake $lib/cmake/yamiro/yamiroTargets.cmake $lib/pkgconfig/yamiro.pc \
         share/yamiro/models/manifest.json share/yamiro/scripts/fetch-models.sh; do
  [ -e "$prefix/$f" ] || { echo "consumer: $f not installed"; exit 1; }
done
# No public header may name LibTorch, OpenCV or FFmpeg.
if grep -lE '#include *<(torch|ATen|c10|opencv2|libav[a-z]*)/' "$prefix"/include/yamiro/*.hpp; then
  echo "consumer: a public header includes a private dependency"; exit 1
fi
PKG_CONFIG_PATH=$prefix/$lib/pkgconfig pkg-config --cflags --libs yamiro | grep -q -- "-lyamiro" \
  || { echo "consumer: pkg-config --libs yamiro lacks -lyamiro"; exit 1; }

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$here" -B "$tmp/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" \
  || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }

model=$fixtures/compact-x4-nc4-nf16.param
in=$fixtures/rgb48x60.png
"$tmp/build/consumer" "$model" "$in" "$tmp/consumer.png"
"$prefix/bin/yamiro" upscale -q "$in" -o "$tmp/installed_cli.png" -m "$model"
"$build/yamiro" upscale -q "$in" -o "$tmp/build_cli.png" -m "$model"
cmp "$tmp/consumer.png" "$tmp/build_cli.png"
cmp "$tmp/installed_cli.png" "$tmp/build_cli.png"
echo "consumer: $(stat -c %s "$tmp/consumer.png") bytes, equal to the CLI's; pkg-config and layout ok"
