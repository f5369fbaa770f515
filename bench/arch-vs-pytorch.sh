#!/usr/bin/env bash
# The README's architecture speed table: each architecture at its published size (random
# weights, made by the fixture generator's --bench mode, which also times PyTorch), run by
# plain PyTorch (Debian's python3-torch, fp32 eager, 2 threads) and by yamiro (fp32, 2
# threads, whole image) on a 64x64 input, one after the other in this one run, ROUNDS times
# alternating. Prints one line per run and a summary per architecture.
# Usage: bench/arch-vs-pytorch.sh [ROUNDS] [ARCH...]   (default 2; esrgan-x1 span plksr hat dat omnisr)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
shift || true
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(esrgan-x1 span plksr hat dat omnisr)
dir=${YAMIRO_BENCH_DIR:-/tmp/yamiro-arch-bench}
mkdir -p "$dir" bench/results
log=bench/results/arch-vs-pytorch.txt
: > "$log"
declare -A gen=([esrgan-x1]=make_esrgan.py [span]=make_span.py [plksr]=make_plksr.py [hat]=make_hat.py [dat]=make_dat.py
                [omnisr]=make_omnisr.py)
declare -A file=([esrgan-x1]=esrgan-x1-nf64-nb23.pth [span]=span-x4-f48.pth [plksr]=realplksr-x4-d64-b28.pth
                 [hat]=hat-s-x4.pth [dat]=dat-s-x4.pth [omnisr]=omnisr-x4.pth)
for a in "${archs[@]}"; do
  for r in $(seq "$rounds"); do
    py=$(/usr/bin/python3 "tests/fixtures/${gen[$a]}" --bench "$dir/$a" 2>&1 | grep -i "pytorch" | tail -1)
    echo "$a round $r pytorch: $py" | tee -a "$log"
    ./build/yamiro -q bench --latency -m "$dir/$a/${file[$a]}" --sizes 64 --precision fp32 --threads 2 --tile 0 \
      --warmup 1 --repeats 3 --json "$dir/$a/yamiro-$r.json" 2>/dev/null >/dev/null
    /usr/bin/python3 - "$dir/$a/yamiro-$r.json" "$a" "$r" <<'PY' | tee -a "$log"
import json, sys
d = json.load(open(sys.argv[1]))
row = d["latency"][0] if isinstance(d["latency"], list) else d["latency"]
print("%s round %s yamiro: %s" % (sys.argv[2], sys.argv[3], json.dumps(row)))
PY
  done
done
