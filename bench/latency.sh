#!/usr/bin/env bash
# Reproduces the README's latency table: both built-in models, fp32 and auto precision,
# each against the plain NCHW fp32 tile-by-tile baseline in the same run.
# Usage: bench/latency.sh [SIZES] [REPEATS]   (defaults 256,512 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-256,512}
repeats=${2:-3}
out=bench/results
mkdir -p "$out"
for model in realesrgan-x4fast realesrgan-x4plus; do
  for precision in fp32 auto; do
    echo "== $model $precision"
    ./build/yamiro bench --latency --baseline -m "$model" --precision "$precision" --sizes "$sizes" \
      --warmup 1 --repeats "$repeats" --json "$out/latency-$model-$precision.json"
  done
done
