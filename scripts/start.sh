#!/usr/bin/env bash
# The main job: set up on first use, (re)build the knowledge base from knowledge/, then serve the web chat
# on http://127.0.0.1:8000 and, when LVZHI_TELEGRAM_TOKEN is set, the Telegram bot.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
source scripts/lib.sh
bash scripts/setup.sh  # quick when nothing changed: packages present, the venv installed from this pyproject.toml
"$VENV/bin/python" ingest.py knowledge/ --prune
exec "$VENV/bin/lvzhi" serve "$@"
