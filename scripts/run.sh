#!/usr/bin/env bash
# The main job on the built-in data: check it, then build every edition into output/EDITION/
# (booklets in PDF, Word and HTML, every blank form, the catalog, the md/json exports, index.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
formgen check --quiet
# --overwrite replaces earlier builds only (folders with a manifest.json); each edition is
# built beside its folder and swapped in when complete, so a failure keeps the old output.
formgen build --all --overwrite
echo "done: see output/EDITION/index.md"
