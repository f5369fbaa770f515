#!/usr/bin/env bash
# Example: upscale one video as N keyframe-aligned pieces with GNU parallel (local processes,
# or other hosts with --sshlogin and a shared folder), then join them without re-encoding.
# Re-running resumes: complete pieces are kept (--skip-existing).
#   scripts/parallel-video.sh film.mkv film_x4.mkv 4 [yamiro video flags...]
set -euo pipefail
in=${1:?input video}
out=${2:?output video}
n=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
parts="${out%.*}.parts"
mkdir -p "$parts"
threads=$(( $(nproc) / n )); [ "$threads" -ge 1 ] || threads=1
seq 0 $((n - 1)) | parallel --halt now,fail=1 --line-buffer \
  yamiro video "$in" --segment {}/"$n" -o "$parts"/piece-{}.mkv --skip-existing --threads "$threads" \
  --no-progress --json "$@" '>' "$parts"/piece-{}.json
pieces=()
for ((i = 0; i < n; i++)); do pieces+=("$parts/piece-$i.mkv"); done
yamiro video "$in" --join "${pieces[@]}" -o "$out" --json
