# Shared by setup.sh, test.sh and start.sh (sourced): the virtual environment and Debian packages on demand.
VENV="${LVZHI_VENV:-.venv}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# apt_install PKG... : install the Debian packages given (apt-get update first), nothing when none is given.
apt_install() {
  [ $# -gt 0 ] || return 0
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$@"
}

# pip_once STAMP ARGS... : pip install ARGS into the venv unless done before from this very pyproject.toml.
pip_once() {
  local stamp="$VENV/.lvzhi-$1" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q "${@:2}"
    echo "$want" >"$stamp"
  fi
}
