#!/usr/bin/env bash
# Example: split one folder over N local processes (or ssh hosts with --sshlogin) with GNU
# parallel; each process takes a deterministic 1/N of the inputs. Exit status is non-zero
# when any shard had a failed input (see the JSON lines).
#   scripts/parallel.sh /data/photos /data/photos_x4 4
set -euo pipefail
in=${1:?input folder}
out=${2:?output folder}
n=${3:-2}
threads=$(( $(nproc) / n )); [ "$threads" -ge 1 ] || threads=1
seq 0 $((n - 1)) | parallel --halt never --line-buffer \
  yamiro upscale -r "$in" -o "$out" --shard {}/"$n" --skip-existing --threads "$threads" --json --no-progress \
  '>' "$out"/shard-{}.jsonl
