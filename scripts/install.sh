#!/usr/bin/env bash
# Installs everything formgen needs on Debian 12 with Python 3.11 (run as root, or with sudo available).
# Idempotent: skips what is already there, so the run and test commands can call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(fonts-noto-cjk poppler-utils chromium)   # CJK fonts for PDFs; pdftoppm/pdftotext for viewing and tests; chromium opens the HTML edition in tests
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test]"
