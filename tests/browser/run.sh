#!/usr/bin/env bash
# Browser test of the `yamiro serve` page: headless Chromium driven by playwright-core.
# Usage: run.sh YAMIRO_BIN [FIXTURES_DIR] (default tests/data/fixtures: the tiny compact x4 model and
# rgb48x60.png come from there). Exits 77 (CTest: skipped) when Chromium, Node.js
# or playwright-core is missing, saying which. YAMIRO_SCREENSHOT=FILE keeps the screenshot.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
chromium="${YAMIRO_CHROMIUM:-/usr/bin/chromium}"
if ! command -v node >/dev/null 2>&1; then echo "SKIPPED: node (Node.js) is not installed; run scripts/setup.sh"; exit 77; fi
if [ ! -x "$chromium" ]; then echo "SKIPPED: $chromium is not installed; run scripts/setup.sh"; exit 77; fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "SKIPPED: playwright-core is not installed in tests/browser; run scripts/setup.sh (npm ci --prefix tests/browser)"
  exit 77
fi
fixtures="${2:-$here/../data/fixtures}"
exec node "$here/serve.test.mjs" "$1" "$fixtures" "$chromium"
