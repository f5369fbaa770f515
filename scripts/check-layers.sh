#!/usr/bin/env bash
# Fails when an include points upward in yamiro's layers (README, "Layers").
# A file in src/<layer>/ (or a public header of <layer> in include/yamiro/) may include
# only headers of its own layer and of the layers listed for it below. `models` and
# `graph` (the torch-free graph IR) are one level: the ncnn frontend in models builds the
# IR, and the IR holds models' HostTensors; the executor that runs the IR on ATen is arch.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [core]=""
  [models]="core graph"
  [graph]="core models"
  [arch]="core models graph"
  [engine]="core models arch graph"
  [io]="core models engine"
  [video]="core models engine io"
  [bench]="core models arch graph engine"
  [pipeline]="core models engine io"
  [profile]="core models engine io video"
  [python]="core models engine io video pipeline profile"
  [serve]="core models engine io pipeline"
  [cli]="core models arch graph engine io video bench pipeline profile serve"
)

# The layer each public header belongs to.
declare -A header_layer=(
  [error]=core [log]=core [atomic_file]=core [paths]=core [checksum]=core [sha256]=core [system]=core [image]=core [geometry]=core
  [model]=models [manifest]=models [fetch]=models
  [engine]=engine [tiling]=engine [heuristics]=engine [autotune]=engine
  [io]=io [image_header]=io [naming]=io [png]=io
  [video]=video
  [bench]=bench [report]=bench [sampler]=bench
  [pipeline]=pipeline
  [profile]=profile
)

bad=0
check_file() {  # file layer
  local file=$1 layer=$2 inc dir target
  while IFS= read -r inc; do
    dir=${inc%%/*}
    if [ "$dir" = yamiro ]; then
      local name=${inc#yamiro/}
      name=${name%.hpp}
      target=${header_layer[$name]:-}
      if [ -z "$target" ]; then
        echo "check-layers: $file includes $inc, a public header with no layer (add it to scripts/check-layers.sh)"
        bad=1
        continue
      fi
    else
      target=$dir
      if [ -z "${allowed[$target]+x}" ]; then
        echo "check-layers: $file includes $inc from an unknown folder '$target'"
        bad=1
        continue
      fi
    fi
    [ "$target" = "$layer" ] && continue
    case " ${allowed[$layer]} " in
      *" $target "*) ;;
      *) echo "check-layers: $file ($layer) includes $inc ($target): $layer may use only: ${allowed[$layer]:-nothing}"; bad=1 ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\/[a-z_0-9]*\.hpp\)".*/\1/p' "$file")
}

for dir in src/*/; do
  layer=$(basename "$dir")
  if [ -z "${allowed[$layer]+x}" ]; then
    echo "check-layers: src/$layer is not a known layer (add it to scripts/check-layers.sh and the README)"
    bad=1
    continue
  fi
  while IFS= read -r f; do check_file "$f" "$layer"; done < <(find "$dir" -name '*.cpp' -o -name '*.hpp' -o -name '*.in')
done
for h in include/yamiro/*.hpp; do
  name=$(basename "$h" .hpp)
  layer=${header_layer[$name]:-}
  if [ -z "$layer" ]; then
    echo "check-layers: $h has no layer (add it to scripts/check-layers.sh)"
    bad=1
    continue
  fi
  check_file "$h" "$layer"
done
if [ "$bad" -ne 0 ]; then
  echo "check-layers: includes point upward (see the README's layer table)"
  exit 1
fi
echo "check-layers: ok"
