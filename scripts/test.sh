#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, fetches the models, runs CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/fetch-models.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
