#!/usr/bin/env bash
# `make test`: install what the tests need, then run the whole suite on both databases at once:
# the embedded SQLite + SpatiaLite in the foreground (its output streams), and PostgreSQL +
# PostGIS in a throwaway cluster beside it (its output follows when both are done). The two
# runs share nothing but the machine; side by side they take about the time of the longer one.
# Extra arguments go to pytest (e.g. scripts/test.sh -k grids).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test || exit 1
export SPATIALITE_LIBRARY_PATH=mod_spatialite
unset DATABASE_URL TEST_DATABASE_URL

pgdir=$(mktemp -d /tmp/firstline-pg.XXXXXX)
pglog="$pgdir/pytest.log"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'scripts/pg-cluster.sh stop "$pgdir"' EXIT
url=$(scripts/pg-cluster.sh start "$pgdir" "$port") || { cat "$pgdir/server.log" 2>/dev/null; exit 1; }

echo "===== PostgreSQL + PostGIS ($url): running beside SQLite, output below when done ====="
TEST_DATABASE_URL="$url" .venv/bin/python -m pytest -p no:cacheprovider "$@" >"$pglog" 2>&1 &
pg_pid=$!

echo "===== run 1/2: SQLite + SpatiaLite ====="
.venv/bin/python -m pytest "$@"
sqlite_rc=$?

wait "$pg_pid"
pg_rc=$?
echo "===== run 2/2: PostgreSQL + PostGIS ($url) ====="
cat "$pglog"

echo "===== SQLite + SpatiaLite: exit $sqlite_rc; PostgreSQL + PostGIS: exit $pg_rc ====="
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
