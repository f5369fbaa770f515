#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, fetches the models, runs CTest,
# then the unit and golden tests again under AddressSanitizer + UndefinedBehaviorSanitizer
# (set YAMIRO_SKIP_SANITIZE=1 to skip that stage locally), then replays the fuzz corpus
# through the libFuzzer targets under ASan+UBSan (YAMIRO_SKIP_FUZZ=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/fetch-models.sh
# playwright-core, pinned in tests/browser/package-lock.json, for the `serve` browser test.
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund
ctest --test-dir build --output-on-failure -j "$(nproc)"

if [ "${YAMIRO_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== sanitizer stage (address;undefined)"
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  [ -f build-asan/CMakeCache.txt ] || cmake -S . -B build-asan "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DYAMIRO_SANITIZE="address;undefined"
  cmake --build build-asan -j "$(nproc)" --target yamiro_unit_tests
  ASAN_OPTIONS=halt_on_error=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ./build-asan/tests/yamiro_unit_tests --gtest_brief=1
fi

if [ "${YAMIRO_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz corpus replay (libFuzzer, address;undefined)"
  bash scripts/fuzz.sh replay
fi
