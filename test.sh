#!/usr/bin/env bash
# Sets up what the tests need (see setup.sh), then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-build
exec .venv/bin/python -m pytest "$@"
