#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine, then builds site/ on the offline default.
#   bash setup.sh            set up and build
#   bash setup.sh --no-build set up only (what test.sh and CI use)
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages: chromium for the browser tests and benchmarks, Node.js for the browser
# libraries and the build's chart rendering.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  echo "== installing Debian packages:$missing"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv (Python 3.11)"
  python3 -m venv .venv
fi
echo "== installing Python packages (pinned by constraints.txt)"
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt -c constraints.txt
# the project itself, editable (pyproject.toml): model/ and generator/ import from anywhere
.venv/bin/pip install -q --no-deps --no-build-isolation -e .

echo "== installing browser libraries (npm ci, pinned by package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error

if [ "${1:-}" != "--no-build" ]; then
  echo "== building site/"
  .venv/bin/python build.py
fi
