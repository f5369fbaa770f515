#!/usr/bin/env bash
# Builds the Debian package from ./build (configured for the /usr prefix) and lists it:
#   bash scripts/package.sh            -> build/yamiro_<version>_<arch>.deb
# The .deb holds bin/yamiro, include/yamiro, libyamiro.a, lib/cmake/yamiro, yamiro.pc, the
# Python module and share/yamiro (manifests, fetch-models.sh).
set -euo pipefail
# Precision auto without the per-machine measurement: the runs compared here must not pick
# different paths because one of them measured again on a busy machine.
export YAMIRO_PROBE=0
cd "$(dirname "$0")/.."
# The package installs under /usr: the Python module goes to /usr/lib/python3/dist-packages and
# the installed programs look for share/yamiro under /usr.
if [ -f build/CMakeCache.txt ]; then cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
else bash scripts/build.sh -DCMAKE_INSTALL_PREFIX=/usr; fi
cmake --build build -j "$(nproc)" --target yamiro yamiro_core $(grep -q '^YAMIRO_WITH_PYTHON:BOOL=ON' build/CMakeCache.txt && echo yamiro_python yamiro_python_files)
(cd build && cpack -G DEB)
deb=$(ls -t build/yamiro_*.deb | head -1)
dpkg-deb -I "$deb"
dpkg-deb -c "$deb"

# The check: the files that must be there, Depends declared, and a scratch root (dpkg -x)
# whose yamiro and Python module run.
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
# The library folder is Debian's multiarch one (lib/x86_64-linux-gnu) under /usr.
L='\./usr/lib(/[a-z0-9_]+-linux-gnu[a-z]*)?'
for f in '\./usr/bin/yamiro' '\./usr/include/yamiro/engine\.hpp' '\./usr/include/yamiro/pipeline\.hpp' "$L/libyamiro\.a" \
         "$L/cmake/yamiro/yamiroConfig\.cmake" "$L/cmake/yamiro/yamiroConfigVersion\.cmake" \
         "$L/cmake/yamiro/yamiroTargets\.cmake" "$L/pkgconfig/yamiro\.pc" \
         '\./usr/share/yamiro/models/manifest\.json' '\./usr/share/yamiro/scripts/fetch-models\.sh' \
         '\./usr/lib/python3/dist-packages/yamiro/__init__\.py'; do
  grep -qE "^$f\$" <<<"$contents" || { echo "package: nothing matching $f in $deb" >&2; exit 1; }
done
grep -q '^./usr/lib/python3/dist-packages/yamiro/_yamiro\..*\.so$' <<<"$contents" || { echo "package: no Python extension" >&2; exit 1; }
depends=$(dpkg-deb -f "$deb" Depends)
for d in libtorch libopencv-core libavformat python3-numpy; do
  grep -q "$d" <<<"$depends" || { echo "package: Depends lacks $d: $depends" >&2; exit 1; }
done
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
"$root/usr/bin/yamiro" info
"$root/usr/bin/yamiro" info --json | /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin); assert p["yamiro"]'
PYTHONPATH=$root/usr/lib/python3/dist-packages /usr/bin/python3 -c \
  'import yamiro; p = yamiro.info(); assert p["yamiro"] == yamiro.__version__; print("python: yamiro", yamiro.__version__, "from", yamiro.__file__)'
# tests/consumer built against the unpacked package: the CLI's bytes.
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
fx=tests/data/fixtures
cmake -S tests/consumer -B "$root/consumer" "${gen[@]}" -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null
cmake --build "$root/consumer" >/dev/null
"$root/consumer/consumer" $fx/compact-x4-nc4-nf16.param $fx/rgb48x60.png "$root/consumer.png"
"$root/usr/bin/yamiro" upscale -q $fx/rgb48x60.png -o "$root/cli.png" -m $fx/compact-x4-nc4-nf16.param
cmp "$root/consumer.png" "$root/cli.png"
echo "package: tests/consumer built against the unpacked package writes the packaged CLI's bytes"
echo "package: $deb ($(du -h "$deb" | cut -f1)); Depends: $depends"
