#!/usr/bin/env bash
# Runs the whole suite. pytest exits 5 when it collected no test; that fails here like any error.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
