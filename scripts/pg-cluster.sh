#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster on a spare local port, for the tests.
#   scripts/pg-cluster.sh start DIR PORT   initdb in DIR, start, create database "firstline_test"
#   scripts/pg-cluster.sh stop DIR         stop and delete DIR
# initdb refuses to run as root, so as root the cluster runs as the "postgres" user.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?cluster directory}
port=${3:-55432}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb)")

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" --auth=trust --username=postgres \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
    psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE firstline_test"
    psql -h 127.0.0.1 -p "$port" -U postgres -d firstline_test -qc "CREATE EXTENSION postgis"
    echo "postgresql://postgres@127.0.0.1:$port/firstline_test"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
