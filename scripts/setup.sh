#!/usr/bin/env bash
# One-time set-up of a fresh Debian machine: system packages, then the Python package with its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)  # llama-cpp-python (dev extra) builds from source
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-writer-nogui)  # .doc/.wps import (optional in production)
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)  # several replicas behind one address (deploy/nginx.conf, tests)
# OCR of scanned PDFs and images (bot/knowledge/ocr.py); the CJK font draws the scans the OCR tests read.
langs="$(command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null || true)"
grep -qx chi_sim <<<"$langs" && grep -qx chi_tra <<<"$langs" \
  || need_apt+=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra)
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need_apt+=(fonts-wqy-zenhei)
if [ ${#need_apt[@]} -gt 0 ]; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}"
fi

# torch is pinned to the CPU build (2.13.0) in pyproject.toml; install it first so nothing pulls a CUDA build.
python3 -m pip install -q torch==2.13.0
# llama-cpp-python compiles llama.cpp (a few minutes); use every core for it.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
python3 -m pip install -q -e ".[dev]"
echo "Lvzhi 安装完成。"
