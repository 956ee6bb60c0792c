#!/usr/bin/env bash
# Set-up of the main job on a fresh Debian machine: the Debian packages Lvzhi uses at run time, then a virtual
# environment (.venv) holding the Python package — nothing is installed into the system Python. The test tools
# (pytest, Selenium, llama.cpp for the LLM tests …) are added by the test command, scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

need_apt=()
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-writer-nogui)  # .doc/.wps import (optional in production)
# OCR of scanned PDFs and images (bot/knowledge/ocr.py), Simplified and Traditional.
langs="$(command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null || true)"
grep -qx chi_sim <<<"$langs" && grep -qx chi_tra <<<"$langs" \
  || need_apt+=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra)
python3 -m venv --help >/dev/null 2>&1 && python3 -c "import ensurepip" 2>/dev/null || need_apt+=(python3-venv)
apt_install "${need_apt[@]}"

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# torch is pinned to the CPU build (2.13.0) in pyproject.toml; install it first so nothing pulls a CUDA build.
"$VENV/bin/python" -m pip install -q torch==2.13.0
pip_once runtime -e .
echo "Lvzhi 安装完成（虚拟环境 $VENV；命令 $VENV/bin/lvzhi，或先 source $VENV/bin/activate）。"
