#!/usr/bin/env bash
# Install what the tests need into a virtualenv and run the whole suite.
# Usage: bash scripts/test.sh [pytest args]   (STATIONMAP_VENV picks the virtualenv, default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${STATIONMAP_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[test]'
exec "$venv/bin/python" -m pytest "$@"
