#!/usr/bin/env bash
# The test command: sets up what the tests need (the main job's set-up, then the Debian packages and the Python test
# tools only the tests use, into .venv), starts a throwaway PostgreSQL on loopback, runs ruff and the pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

[ -x "$VENV/bin/lvzhi" ] || bash scripts/setup.sh
need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)  # llama-cpp-python (dev extra) builds llama.cpp from source
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)  # two replicas behind one address (tests/test_scale_out.py)
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need_apt+=(fonts-wqy-zenhei)  # draws the scans OCR tests read
apt_install "${need_apt[@]}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
pip_once dev -e ".[dev]"
export PATH="$PWD/$VENV/bin:$PATH"

export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
PG_PORT="${LVZHI_TEST_PG_PORT:-55432}"
PG_DIR=""
cleanup() {
  if [ -n "$PG_DIR" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap cleanup EXIT

if [ -z "${LVZHI_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  PG_DIR=$(mktemp -d /tmp/lvzhi-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_DIR"
    RUN=(runuser -u postgres --)
  else
    RUN=()
  fi
  "${RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR" -U lvzhi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR" -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" -w start >/dev/null
  "${RUN[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U lvzhi lvzhi_test
  export LVZHI_TEST_POSTGRES_URL="postgresql+psycopg://lvzhi@127.0.0.1:$PG_PORT/lvzhi_test"
  echo "PostgreSQL 已在 127.0.0.1:$PG_PORT 启动（测试用）"
fi

ruff check .
ruff format --check .
python -m pytest "$@"
