#!/usr/bin/env bash
# The latency profile the README and notes quote: both built-in models, fp32 and auto,
# 256 and 512, with GFLOP/s and % of the measured conv peak; JSON and an HTML report each.
# Usage: bench/profile.sh [SIZES] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-256,512}
repeats=${2:-2}
mkdir -p bench/results
for model in realesrgan-x4fast realesrgan-x4plus; do
  ./build/yamiro bench --latency -m "$model" --precisions fp32,auto --sizes "$sizes" --warmup 1 --repeats "$repeats" \
    --json "bench/results/profile-$model.json" --report "bench/results/profile-$model.html"
done
