#!/usr/bin/env bash
# netflowgen setup: installs everything the pipeline and the tests need, and skips what is already
# installed. Safe to run again. Quiet unless something is installed (or it fails).
#   - npm packages (from package-lock.json; npm ci trips over duckdb's per-platform optional packages)
#   - Debian's nfdump (reads nfcapd binary files), through apt-get
#   - Debian's chromium (the test that opens the HTML report headless), through apt-get
#   - a Python virtual environment in .venv with the pins of python/requirements.txt
#   - fairseq 0.12.2 in that venv, built and patched by python/install_fairseq.sh (cached in .cache/)
# Environment: NETFLOWGEN_PYTHON (interpreter for the venv, default python3),
#              NETFLOWGEN_SKIP_APT=1 (do not try apt-get; nfdump-based features then report it missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

# --- npm ------------------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.netflowgen-$lock_hash ]; then
  log "installing npm packages (npm install, pinned by package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error >&2
  touch "node_modules/.netflowgen-$lock_hash"
fi

# --- Debian packages ------------------------------------------------------------------------
# apt_install COMMAND PACKAGE WHY: installs PACKAGE when COMMAND is missing (as root, or with sudo).
apt_install() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "${NETFLOWGEN_SKIP_APT:-0}" != 1 ] || return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing Debian's $2 (apt-get; $3)"
  if ! { $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }; then
    log "WARNING: could not install $2; $3 will fail until it is installed"
  fi
}
apt_install nfdump nfdump "reading nfcapd binary files"
# The report itself needs no browser; the test that opens the HTML report headless does.
apt_install chromium chromium "the report's rendering test"

# --- Python ---------------------------------------------------------------------------------
py=${NETFLOWGEN_PYTHON:-python3}
req_hash=$(cat python/requirements.txt scripts/setup.sh | sha256sum | cut -c1-16)
stamp=.venv/.netflowgen-$req_hash
if [ ! -f "$stamp" ]; then
  if [ ! -x .venv/bin/python ]; then
    log "creating the Python virtual environment (.venv) with $($py --version 2>&1)"
    "$py" -m venv .venv
  fi
  log "installing Python packages from python/requirements.txt (torch CPU, numpy)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r python/requirements.txt >&2
  rm -f .venv/.netflowgen-*
  touch "$stamp"
fi

# --- fairseq --------------------------------------------------------------------------------
# fairseq 0.12.2 built from the PyPI sdist with the patches of python/patch_fairseq.py (Python 3.11,
# torch 2.13); python/install_fairseq.sh keeps the sdist, the wheel and pip's cache in .cache/.
fs_hash=$(cat python/requirements.txt python/requirements-fairseq.txt python/install_fairseq.sh \
  python/patch_fairseq.py | sha256sum | cut -c1-16)
fs_stamp=.venv/.fairseq-$fs_hash
if [ ! -f "$fs_stamp" ]; then
  log "installing fairseq 0.12.2 (python/install_fairseq.sh)"
  bash python/install_fairseq.sh
  rm -f .venv/.fairseq-*
  touch "$fs_stamp"
fi
