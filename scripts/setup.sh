#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for cnnbench: the Debian packages the suite and its
# tests use (when apt is there and we may use it), then a virtual environment with the project.
# Idempotent: runs in seconds when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# Fashion-MNIST (60k/10k IDX files in /usr/share/datasets/fashion-mnist) and Chromium (the
# report's page test opens the HTML in headless Chromium).
DEB_PACKAGES=(dataset-fashion-mnist chromium)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
  if command -v apt-get >/dev/null && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    echo "setup: installing Debian packages: ${missing[*]}"
    # Not fatal: without them the suite reads data from --data-dir/CNNBENCH_DATA and the page
    # test skips, saying why.
    { $SUDO apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; } ||
      echo "setup: warning: could not install ${missing[*]} with apt-get" >&2
  else
    echo "setup: not installing ${missing[*]} (no apt-get or no root): Fashion-MNIST must come" \
         "from --data-dir/CNNBENCH_DATA or a download, and the page test will be skipped" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "setup: installing cnnbench and its dependencies into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true
"$VENV/bin/python" -c "import torch, torchvision, pytest_benchmark, pandas, seaborn" \
  || { echo "setup: the environment in $VENV is incomplete" >&2; exit 1; }
