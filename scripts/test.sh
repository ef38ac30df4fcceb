#!/usr/bin/env bash
# `make test`: install what the tests need, then run the whole suite twice:
# on the embedded SQLite + SpatiaLite, and on PostgreSQL + PostGIS in a throwaway cluster.
# Extra arguments go to pytest (e.g. scripts/test.sh -k grids).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test || exit 1
export SPATIALITE_LIBRARY_PATH=mod_spatialite
unset DATABASE_URL TEST_DATABASE_URL

echo "===== run 1/2: SQLite + SpatiaLite ====="
.venv/bin/python -m pytest "$@"
sqlite_rc=$?

pgdir=$(mktemp -d /tmp/firstline-pg.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'scripts/pg-cluster.sh stop "$pgdir"' EXIT
url=$(scripts/pg-cluster.sh start "$pgdir" "$port") || { cat "$pgdir/server.log" 2>/dev/null; exit 1; }
echo "===== run 2/2: PostgreSQL + PostGIS ($url) ====="
TEST_DATABASE_URL="$url" .venv/bin/python -m pytest "$@"
pg_rc=$?

echo "===== SQLite + SpatiaLite: exit $sqlite_rc; PostgreSQL + PostGIS: exit $pg_rc ====="
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
