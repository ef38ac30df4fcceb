#!/usr/bin/env bash
# Install what Firstline needs on a Debian/Ubuntu machine, idempotently.
#   scripts/setup.sh          the app: SpatiaLite, a virtualenv, pip and npm packages
#   scripts/setup.sh --test   the same plus PostgreSQL + PostGIS and Chromium for the tests
# Works as root or as a user with sudo; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

missing=()
need_pkg() { dpkg -s "$1" >/dev/null 2>&1 || missing+=("$1"); }
need_pkg python3-venv
need_pkg libsqlite3-mod-spatialite
# PDFs (交办单, 答复意见书, reports): WeasyPrint draws with Pango and embeds the Noto CJK fonts.
need_pkg libpango-1.0-0
need_pkg libpangoft2-1.0-0
need_pkg fonts-noto-cjk
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "$want_test" -eq 1 ]; then
  need_pkg postgresql
  need_pkg postgresql-postgis
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  # The task queue's production store: tests/test_background.py starts its own on 127.0.0.1.
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's own python3 is built with loadable SQLite extensions (SpatiaLite needs them).
if [ ! -x .venv/bin/python ]; then
  echo "==> virtualenv .venv"
  /usr/bin/python3 -m venv .venv
fi
reqs=requirements.txt
[ "$want_test" -eq 1 ] && reqs=requirements-dev.txt
stamp=".venv/.installed-$(sha256sum requirements.txt "$reqs" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> pip install -r $reqs"
  .venv/bin/pip install -q --disable-pip-version-check -r "$reqs"
  touch "$stamp"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm install"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi
