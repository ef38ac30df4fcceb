"""Time ``flask demo seed --cases N`` into a fresh database and print the figures.

    .venv/bin/python bench/seed_million.py                     # SQLite + SpatiaLite, 1,000,000 cases
    .venv/bin/python bench/seed_million.py --cases 2000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/seed_million.py

With DATABASE_URL (PostgreSQL), the script creates a new database on that server
(``firstline_bench_<pid>``, with the postgis extension), migrates, seeds, measures and drops
it again; the database named in the URL is only used to connect. Without it, a SpatiaLite
file in a temporary folder. Each run starts from an empty, freshly migrated database, as
``make run`` does on a new machine. Figures go to stdout; docs/benchmarks.md records them.
"""

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(ROOT / ".venv" / "bin" / "flask")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (prints where)")
    return parser.parse_args()


def flask(env: dict, *args: str) -> tuple[float, str]:
    """Run a flask command; return its wall time and output, or exit with its error."""
    started = time.perf_counter()
    result = subprocess.run([FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return elapsed, result.stdout.strip()


def admin_connection(url: str) -> psycopg.Connection:
    """An autocommit connection to the server in the URL (CREATE DATABASE needs one)."""
    parsed = make_url(url).set(drivername="postgresql")
    return psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True)


def fresh_postgres(url: str) -> tuple[str, str]:
    """Create an empty PostGIS database next to the one in the URL; return (name, its URL)."""
    name = f"firstline_bench_{os.getpid()}"
    with admin_connection(url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    bench_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin_connection(bench_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return name, bench_url


def postgres_size(url: str) -> int:
    """Bytes on disk of the database in the URL."""
    with admin_connection(url) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def drop_postgres(url: str, name: str) -> None:
    """Drop the benchmark database."""
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def folder_size(folder: Path) -> int:
    """Bytes of every file in a folder (the SQLite file plus its WAL)."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def machine() -> str:
    """One line about the machine the figures come from."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def run(args: argparse.Namespace, env: dict, size) -> None:
    """Migrate, seed, and print the figures."""
    migrate_s, _ = flask(env, "db", "upgrade")
    seed_s, summary = flask(env, "demo", "seed", "--cases", str(args.cases), "--seed", str(args.seed))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine:        {machine()}")
    print(f"backend:        {backend_name(env)}")
    print(f"cases:          {args.cases:,}")
    print(f"migrate:        {migrate_s:.1f} s")
    print(f"seed (wall):    {seed_s:.1f} s  ({args.cases / seed_s:,.0f} cases/s, including app start-up)")
    print(f"peak memory:    {peak_mb:,.0f} MB (largest child process)")
    print(f"database size:  {size() / 1e6:,.0f} MB")
    print(f"seed says:      {summary.splitlines()[0]}")


def backend_name(env: dict) -> str:
    """Which database the run used."""
    url = env.get("DATABASE_URL")
    if not url:
        return "SQLite + SpatiaLite (file)"
    with admin_connection(url) as conn:
        version = conn.execute("SELECT current_setting('server_version'), postgis_lib_version()").fetchone()
    return f"PostgreSQL {version[0]} + PostGIS {version[1]}"


def main() -> None:
    """Set up a fresh database, run, clean up."""
    args = parse_args()
    env = {**os.environ, "FLASK_APP": "wsgi", "SPATIALITE_LIBRARY_PATH": os.environ.get("SPATIALITE_LIBRARY_PATH",
                                                                                        "mod_spatialite")}  # fmt: skip
    server_url = os.environ.get("DATABASE_URL")
    if server_url:
        name, env["DATABASE_URL"] = fresh_postgres(server_url)
        try:
            run(args, env, lambda: postgres_size(env["DATABASE_URL"]))
        finally:
            if args.keep:
                print(f"kept database {name}")
            else:
                drop_postgres(server_url, name)
        return
    folder = Path(tempfile.mkdtemp(prefix="firstline-bench-"))
    env["FIRSTLINE_INSTANCE_DIR"] = str(folder)
    try:
        run(args, env, lambda: folder_size(folder))
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
