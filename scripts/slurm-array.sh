#!/usr/bin/env bash
# Example: upscale one folder with a Slurm job array, no coordinator. Each array task takes a
# deterministic 1/N of the sorted inputs (--shard), skips outputs that already exist (so a
# re-submitted array resumes), and writes JSON lines for collection.
#   sbatch --array=0-7 scripts/slurm-array.sh /data/photos /data/photos_x4
#SBATCH --job-name=yamiro
#SBATCH --cpus-per-task=8
#SBATCH --output=yamiro-%A_%a.log
set -euo pipefail
in=${1:?input folder}
out=${2:?output folder}
n=${SLURM_ARRAY_TASK_COUNT:?run as a Slurm array}
i=${SLURM_ARRAY_TASK_ID:?run as a Slurm array}
mkdir -p "$out/.results"
yamiro upscale -r "$in" -o "$out" --shard "$i/$n" --skip-existing --threads "${SLURM_CPUS_PER_TASK:-0}" \
  --json --no-progress > "$out/.results/shard-$i.jsonl"
