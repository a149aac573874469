#!/usr/bin/env bash
# Sets up what the tests need (see setup.sh), runs the linters, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-build

# ruff and mypy are configured in pyproject.toml, ESLint in eslint.config.js (npm run lint), and the
# TypeScript compiler's check of the page's JSDoc types in tsconfig.json (npm run typecheck).
lint() {
  echo "== lint: $*"
  "$@" || { echo "test.sh: '$*' found problems (listed above); fix them, then run the tests again" >&2; exit 1; }
}
lint .venv/bin/ruff check --quiet --output-format concise .
lint .venv/bin/mypy
lint npm run --silent lint
lint npm run --silent typecheck
exec .venv/bin/python -m pytest "$@"
