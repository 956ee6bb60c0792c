#!/usr/bin/env bash
# The main job: set up on first use, (re)build the knowledge base from knowledge/, then serve the web chat
# on http://127.0.0.1:8000 and, when LVZHI_TELEGRAM_TOKEN is set, the Telegram bot.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
if ! command -v lvzhi >/dev/null 2>&1 || ! python3 -c "import bot.settings" >/dev/null 2>&1; then
  bash scripts/setup.sh
fi
python3 ingest.py knowledge/ --prune
exec lvzhi serve "$@"
