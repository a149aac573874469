#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine, then builds site/ on the offline default.
#   bash setup.sh            set up and build
#   bash setup.sh --no-build set up only (what test.sh and CI use)
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium (browser tests and benchmarks)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv (Python 3.11)"
  python3 -m venv .venv
fi
echo "== installing Python packages (pinned by constraints.txt)"
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt -c constraints.txt

echo "== installing browser libraries (npm ci, pinned by package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error

if [ "${1:-}" != "--no-build" ]; then
  echo "== building site/"
  .venv/bin/python build.py
fi
