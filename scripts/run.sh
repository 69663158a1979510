#!/usr/bin/env bash
# The main job on the built-in data: check it, then write every edition to output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
formgen check --quiet
for edition in $(formgen editions --json | python3 -c 'import json,sys; print(" ".join(e["id"] for e in json.load(sys.stdin)))'); do
  mkdir -p "output/$edition"
  formgen export "$edition" --format md -o "output/$edition/$edition.md"
  formgen export "$edition" --format json -o "output/$edition/$edition.json"
done
echo "done: see output/"
