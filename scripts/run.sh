#!/usr/bin/env bash
# `make run`: install what is missing, migrate, seed the demo city once, serve on 127.0.0.1:5000.
# While it serves, the deadline sweep (reminders 催办 and escalations 督办) runs every 5 minutes;
# in production run `flask deadlines sweep` from cron instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SPATIALITE_LIBRARY_PATH=${SPATIALITE_LIBRARY_PATH:-mod_spatialite}
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask deadlines seed
.venv/bin/flask demo seed --if-empty
( while sleep 300; do .venv/bin/flask deadlines sweep >/dev/null 2>&1 || true; done ) &
sweeper=$!
trap 'pkill -P "$sweeper" 2>/dev/null; kill "$sweeper" 2>/dev/null || true' EXIT
.venv/bin/flask deadlines sweep || true
.venv/bin/flask run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
