#!/usr/bin/env bash
# Installs fairseq 0.12.2 into .venv, built from its PyPI sdist for Python 3.11 / torch 2.13 CPU.
# Called by scripts/setup.sh after the Python step (which makes .venv with torch and numpy); can be run
# on its own. Steps (python/README.md says why):
#   1. pinned dependencies and build tools: python/requirements.txt + python/requirements-fairseq.txt
#   2. the sdist, through pip, checked against a pinned sha256
#   3. unpack, patch with python/patch_fairseq.py (fails if any expected text is missing)
#   4. build a wheel WITHOUT build isolation (against the venv's torch and numpy), no dependencies
#   5. install the wheel, then run python/check_fairseq.py
# The sdist, the built wheel and pip's cache live in .cache/ (git-ignored): the wheel is reused while
# the sdist, the patch, the pins and the interpreter stay the same, so a re-run takes seconds.
# Environment: FAIRSEQ_REBUILD=1 builds the wheel again even if a cached one matches.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

version=0.12.2
sdist_sha256=34f1b18426bf3844714534162f065ab733e049597476daa35fffb4d06a92b524  # PyPI's fairseq-0.12.2.tar.gz
py=$root/.venv/bin/python
cache=$root/.cache/fairseq
export PIP_CACHE_DIR=$root/.cache/pip PIP_DISABLE_PIP_VERSION_CHECK=1
pip=("$py" -m pip --quiet)

[ -x "$py" ] || { log "ERROR: $py is missing; run scripts/setup.sh first"; exit 1; }

# 1. dependencies (torch and numpy pinned in the same resolve, so nothing moves them)
"${pip[@]}" install -r python/requirements.txt -r python/requirements-fairseq.txt >&2

# 2. the sdist
sdist=$cache/sdist/fairseq-$version.tar.gz
if [ ! -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$sdist_sha256" ]; then
  rm -rf "$cache/sdist" && mkdir -p "$cache/sdist"
  # --no-build-isolation: pip reads the sdist's metadata with the venv's setuptools (setup.py imports torch)
  "${pip[@]}" download --no-deps --no-binary :all: --no-build-isolation -d "$cache/sdist" "fairseq==$version" >&2
fi
actual=$(sha256sum "$sdist" | cut -d' ' -f1)
if [ "$actual" != "$sdist_sha256" ]; then
  log "ERROR: $sdist has sha256 $actual, expected $sdist_sha256; not building it"
  rm -f "$sdist"
  exit 1
fi

# 3.-4. patched wheel, cached by everything that goes into it
key=$({ echo "$sdist_sha256"; cat python/patch_fairseq.py python/requirements.txt python/requirements-fairseq.txt
        "$py" -c 'import sys, platform; print(sys.version, platform.machine())'; } | sha256sum | cut -c1-16)
wheel_dir=$cache/wheels/$key
wheel=$(ls "$wheel_dir"/fairseq-$version-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ] || [ "${FAIRSEQ_REBUILD:-0}" = 1 ]; then
  log "building fairseq $version from the PyPI sdist, patched for Python 3.11 (about half a minute on 2 cores)"
  start=$(date +%s)
  build=$cache/build
  rm -rf "$build" "$wheel_dir" && mkdir -p "$build" "$wheel_dir"
  tar -xzf "$sdist" -C "$build"
  "$py" python/patch_fairseq.py "$build/fairseq-$version"
  # torch's BuildExtension compiles with ninja when it is installed; MAX_JOBS caps its parallelism.
  MAX_JOBS=${MAX_JOBS:-$(nproc)} "${pip[@]}" wheel --no-build-isolation --no-deps --no-index \
    -w "$wheel_dir" "$build/fairseq-$version" >&2
  rm -rf "$build"
  wheel=$(ls "$wheel_dir"/fairseq-$version-*.whl | head -n1)
  log "built $(basename "$wheel") in $(( $(date +%s) - start )) s"
fi

# 5. install and check
"${pip[@]}" install --no-deps --no-index --force-reinstall "$wheel" >&2
if ! out=$("$py" python/check_fairseq.py 2>&1); then
  printf '%s\n' "$out" >&2
  log "ERROR: python/check_fairseq.py failed after installing fairseq"
  exit 1
fi
