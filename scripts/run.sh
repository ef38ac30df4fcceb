#!/usr/bin/env bash
# `make run`: install what is missing, migrate, seed the demo city once, serve on 127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SPATIALITE_LIBRARY_PATH=${SPATIALITE_LIBRARY_PATH:-mod_spatialite}
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask demo seed --if-empty
exec .venv/bin/flask run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
