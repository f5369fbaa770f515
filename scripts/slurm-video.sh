#!/usr/bin/env bash
# Example: upscale one video over a Slurm job array. N array tasks each upscale one
# keyframe-aligned piece (--segment I/N) into a folder of pieces; a job that depends on the
# whole array then remuxes them (--join, no re-encoding) with the source's audio, subtitles
# and chapters. --skip-existing keeps the complete pieces of an earlier run, so re-submitting
# after a killed or failed task redoes only what is missing.
#   scripts/slurm-video.sh film.mkv film_x4.mkv 8 [yamiro video flags...]
# (submits both jobs; run it on the login node, not through sbatch)
set -euo pipefail
in=${1:?input video}
out=${2:?output video}
n=${3:?number of pieces}
shift 3
flags=$(printf ' %q' "$@")
parts="${out%.*}.parts"
mkdir -p "$parts"
in_q=$(printf %q "$in"); out_q=$(printf %q "$out"); parts_q=$(printf %q "$parts")
array=$(sbatch --parsable --job-name=yamiro-piece --array=0-$((n - 1)) --cpus-per-task=8 \
  --output="$parts/piece-%a.log" --wrap \
  "yamiro video $in_q --segment \$SLURM_ARRAY_TASK_ID/$n -o $parts_q/piece-\$SLURM_ARRAY_TASK_ID.mkv --skip-existing \
   --threads \${SLURM_CPUS_PER_TASK:-0} --no-progress --json$flags > $parts_q/piece-\$SLURM_ARRAY_TASK_ID.json")
pieces=""
for ((i = 0; i < n; i++)); do pieces+=" $parts_q/piece-$i.mkv"; done
join=$(sbatch --parsable --job-name=yamiro-join --dependency=afterok:"$array" --output="$parts/join.log" --wrap \
  "yamiro video $in_q --join$pieces -o $out_q --no-progress --json > $parts_q/join.json")
echo "pieces: array job $array ($n tasks); join: job $join -> $out"
