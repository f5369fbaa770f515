#!/usr/bin/env bash
# libFuzzer targets over yamiro's parsers (tests/fuzz), built with clang into build-fuzz.
#   scripts/fuzz.sh build                   configure and build the targets
#   scripts/fuzz.sh replay                  every target over its seed corpus once (CI)
#   scripts/fuzz.sh run [SECONDS] [TARGET]  fuzz each target (or one) for SECONDS (300);
#                                           new inputs go to build-fuzz/corpus/<target>,
#                                           crashes to build-fuzz/crashes/<target>, and a
#                                           summary (execs, cov, ft, crashes) to
#                                           build-fuzz/logs/summary.txt
#   scripts/fuzz.sh list                    the target names
# Needs clang and libFuzzer (clang, libclang-rt-14-dev on Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(ncnn onnx pytorch pickle safetensors image_header video)  # video: only where FFmpeg's dev files are
OUT=build-fuzz
SEEDS=tests/fuzz/corpus
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# A single allocation over 256 MiB, a run over 10 s or 2 GiB resident is a finding: every
# cap in the parsers is far below that for these input sizes.
LIMITS=(-malloc_limit_mb=256 -rss_limit_mb=2048 -timeout=10)

cxx() {
  local c
  for c in clang++ clang++-16 clang++-15 clang++-14; do
    command -v "$c" >/dev/null && { echo "$c"; return; }
  done
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
}

build() {
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  [ -f "$OUT/CMakeCache.txt" ] || cmake -S tests/fuzz -B "$OUT" "${gen[@]}" -DCMAKE_CXX_COMPILER="$(cxx)" >/dev/null
  cmake --build "$OUT" -j "$(nproc)"
}

replay() {
  local t n failed=0
  for t in "${TARGETS[@]}"; do
    [ -x "$OUT/fuzz_$t" ] || { echo "fuzz replay: $t not built (FFmpeg dev files missing?), skipped"; continue; }
    n=$(find "$SEEDS/$t" -type f | wc -l)
    if ! "$OUT/fuzz_$t" "${LIMITS[@]}" -runs=0 "$SEEDS/$t" >"$OUT/replay-$t.log" 2>&1; then
      echo "fuzz replay: $t FAILED on its corpus ($n files); log: $OUT/replay-$t.log" >&2
      tail -n 40 "$OUT/replay-$t.log" >&2
      failed=1
      continue
    fi
    echo "fuzz replay: $t: $n files, $(grep -o 'cov: [0-9]* ft: [0-9]*' "$OUT/replay-$t.log" | tail -n 1), no finding"
  done
  return "$failed"
}

run() {
  local secs=${1:-300} t log status
  shift || true
  local targets=("${TARGETS[@]}")
  [ "$#" -gt 0 ] && targets=("$@")
  mkdir -p "$OUT/logs"
  for t in "${targets[@]}"; do
    [ -x "$OUT/fuzz_$t" ] || { echo "fuzz run: $t not built, skipped"; continue; }
    mkdir -p "$OUT/corpus/$t" "$OUT/crashes/$t"
    log="$OUT/logs/run-$t.log"
    status=0
    "$OUT/fuzz_$t" "${LIMITS[@]}" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$OUT/crashes/$t/" "$OUT/corpus/$t" "$SEEDS/$t" >"$log" 2>&1 || status=$?
    local execs cov crashes
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
    crashes=$(find "$OUT/crashes/$t" -type f | wc -l)
    echo "$(date -u +%FT%TZ) $t: ${secs}s, ${execs} execs, ${cov}, corpus $(find "$OUT/corpus/$t" -type f | wc -l) files, exit $status, crash files $crashes" |
      tee -a "$OUT/logs/summary.txt"
  done
}

case "${1:-}" in
  build) build ;;
  replay) build && replay ;;
  run) shift; build && run "$@" ;;
  list) printf '%s\n' "${TARGETS[@]}" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
