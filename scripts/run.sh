#!/usr/bin/env bash
# `make run`: install what is missing, migrate, seed the demo city once, serve on 127.0.0.1:5000
# with gunicorn (WEB_WORKERS processes × WEB_THREADS threads; SQLite's writers queue at
# BEGIN IMMEDIATE, so several processes share the embedded database safely).
# Beside the web server runs one background worker (`flask worker`): it makes photo thumbnails,
# exports and the early-warning scan after intake, and runs the periodic tasks (the deadline
# sweep every 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SPATIALITE_LIBRARY_PATH=${SPATIALITE_LIBRARY_PATH:-mod_spatialite}
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask deadlines seed
.venv/bin/flask demo seed --if-empty
.venv/bin/flask worker --workers "${WORKERS:-2}" &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
.venv/bin/gunicorn --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-8}" --timeout 120 \
  --bind "${HOST:-127.0.0.1}:${PORT:-5000}" --access-logfile - wsgi:app
