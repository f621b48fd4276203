#!/usr/bin/env bash
# Install what the tests need, lint and type-check, and run the whole suite (a finding fails the run).
#   Debian packages: chromium (real-browser tests), fonts-noto-cjk (Chinese text in screenshots),
#   nginx-light (deploy/stationmap.nginx.conf tested in front of the real server),
#   redis-server (rate limits shared by several app servers), wrk (the short load run with edits,
#   tests/test_writes_live.py),
#   postgresql + postgresql-15-postgis-3 (the store tests start a real server in a temporary directory);
#   Python: the project with its [test] extra, in a virtualenv.
# Usage: bash scripts/test.sh [pytest args]   (STATIONMAP_VENV picks the virtualenv, default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
    || ! { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } \
    || ! { command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; } \
    || ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: chromium fonts-noto-cjk nginx-light redis-server wrk" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk nginx-light redis-server wrk >/dev/null
  else
    echo "warning: chromium, nginx, redis or wrk is missing and this is not root; their tests will skip (or fail under CI=true)" >&2
  fi
fi

if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: postgresql postgresql-15-postgis-3" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql postgresql-15-postgis-3 >/dev/null
  else
    echo "warning: PostgreSQL 15 + PostGIS are missing and this is not root; PostgreSQL store tests will skip (or fail under CI=true)" >&2
  fi
fi

venv="${STATIONMAP_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[test]'
echo "running: ruff check, mypy stationmap, then pytest $*" >&2
"$venv/bin/python" -m ruff check stationmap tests bench scripts   # configuration: [tool.ruff] in pyproject.toml
"$venv/bin/python" -m mypy stationmap                             # configuration: [tool.mypy]
exec "$venv/bin/python" -m pytest "$@"
