#!/usr/bin/env bash
# Soak test: thousands of small generated images through one `yamiro upscale` process
# (a folder input), sampling its resident memory (VmRSS) while it runs. Reports the
# memory slope after warm-up and over the last half (least squares, KiB per 1000
# images): a leak shows as a steady positive slope. Writes bench/results/soak-<model>-<count>.json.
# Usage: bench/soak.sh [COUNT] [MODEL]   (defaults: 4000, the tiny compact x4 fixture)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-4000}
model=${2:-tests/data/fixtures/compact-x4-nc4-nf16.param}
y=./build/yamiro
[ -x "$y" ] || { echo "soak: build yamiro first (scripts/build.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Images of 16-64 pixels a side, RGB, gray and RGBA, random pixels (PNG, stdlib only).
python3 - "$work/in" "$count" <<'EOF'
import os, random, struct, sys, zlib
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
rng = random.Random(7)
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
for i in range(n):
    w, h = rng.randint(16, 64), rng.randint(16, 64)
    ctype, ch = rng.choice([(2, 3), (2, 3), (2, 3), (0, 1), (6, 4)])
    raw = b"".join(b"\0" + rng.randbytes(w * ch) for _ in range(h))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
    with open(os.path.join(out, f"img{i:06d}.png"), "wb") as f:
        f.write(png)
EOF

start=$(date +%s.%N)
$y -q --no-progress upscale "$work/in" -o "$work/out" -m "$model" --json >"$work/lines.jsonl" 2>"$work/stderr.txt" &
pid=$!
# Samples: seconds since start, images finished (JSON lines so far), VmRSS in KiB.
: >"$work/samples.txt"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  done_n=$(wc -l <"$work/lines.jsonl")
  [ -n "$rss" ] && awk -v t="$(date +%s.%N)" -v s="$start" -v n="$done_n" -v r="$rss" \
    'BEGIN { printf "%.2f %d %d\n", t - s, n, r }' >>"$work/samples.txt"
  sleep 0.25
done
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { echo "soak: yamiro exited $status"; cat "$work/stderr.txt"; exit 1; }

mkdir -p bench/results
result="bench/results/soak-$(basename "${model%.*}")-$count.json"
python3 - "$work/samples.txt" "$count" "$model" "$(nproc)" "$result" <<'EOF'
import json, sys
path, count, model, cpus, result = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
rows = [tuple(float(x) for x in line.split()) for line in open(path) if line.strip()]
# Warm-up: the first 25% of the images (allocator pools and the kernel caches, which
# hold 128 shapes each, fill up). The last half is fitted on its own too: a cache that
# is still filling flattens there, a leak does not.
steady = [r for r in rows if count * 0.25 <= r[1] < count]
last_half = [r for r in rows if count * 0.5 <= r[1] < count]
def fit(xs, ys):
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
slope = fit([r[1] for r in steady], [r[2] for r in steady]) * 1000 if len(steady) > 2 else None
slope2 = fit([r[1] for r in last_half], [r[2] for r in last_half]) * 1000 if len(last_half) > 2 else None
secs = rows[-1][0] if rows else 0
doc = {
    "model": model, "images": count, "cpus": cpus, "seconds": round(secs, 1),
    "images_per_second": round(count / secs, 1) if secs else None,
    "samples": len(rows), "steady_samples": len(steady),
    "rss_kib_first": int(rows[0][2]), "rss_kib_after_warmup": int(steady[0][2]) if steady else None,
    "rss_kib_last": int(rows[-1][2]), "rss_kib_max": int(max(r[2] for r in rows)),
    "slope_kib_per_1000_images": round(slope, 1) if slope is not None else None,
    "slope_last_half_kib_per_1000_images": round(slope2, 1) if slope2 is not None else None,
    "trace": [[round(r[0], 2), int(r[1]), int(r[2])] for r in rows[:: max(1, len(rows) // 200)]],
}
json.dump(doc, open(result, "w"), indent=1)
print(f"soak: {count} images in {secs:.0f} s ({doc['images_per_second']}/s); RSS {doc['rss_kib_first']} KiB at start, "
      f"{doc['rss_kib_after_warmup']} after warm-up, {doc['rss_kib_last']} at the end, max {doc['rss_kib_max']}; "
      f"slope after warm-up {doc['slope_kib_per_1000_images']} KiB per 1000 images ({len(steady)} samples), "
      f"over the last half {doc['slope_last_half_kib_per_1000_images']} -> {result}")
EOF
