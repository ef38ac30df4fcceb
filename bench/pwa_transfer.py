"""Benchmark: what the inspector app (/m/) transfers on its first load, gzip level 6.

First load is everything a phone downloads before the app works offline: the shell page, its
CSS and ES modules, the npm modules it imports, the manifest, the service worker and the
scripts the worker imports (the worker precaches the same files, which the browser's HTTP
cache then answers). Leaflet comes a moment later, in the background, for the manual map
pick; it is listed apart. Icons and map tiles (there are none) are not counted.

Run: .venv/bin/python bench/pwa_transfer.py [--budget-kb 150]
Prints one line per file and the totals; copy the figures into docs/benchmarks.md.
"""

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from config import TestConfig  # noqa: E402

GZIP_LEVEL = 6


def worker_lists(source: str) -> dict[str, list[str]]:
    """The URL lists the served service worker was stamped with."""
    found = re.findall(r"^const (PRECACHE|DEFERRED|WORKER_IMPORTS) = (\[.*\]);$", source, flags=re.M)
    return {name: json.loads(urls) for name, urls in found}


def transfer(client, url: str) -> tuple[int, int]:
    """Raw and gzip-6 size of one URL's body."""
    with client.get(url) as response:
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        body = response.get_data()
    return len(body), len(gzip.compress(body, compresslevel=GZIP_LEVEL))


def table(client, title: str, urls: list[str]) -> int:
    """Print one block of files; return its gzip total in bytes."""
    print(f"\n{title}")
    print(f"{'file':<44}{'raw KB':>9}{'gzip KB':>9}")
    raw_total = gzip_total = 0
    for url in urls:
        raw, packed = transfer(client, url)
        raw_total += raw
        gzip_total += packed
        print(f"{url:<44}{raw / 1024:>9.1f}{packed / 1024:>9.1f}")
    print(f"{'total':<44}{raw_total / 1024:>9.1f}{gzip_total / 1024:>9.1f}")
    return gzip_total


def main() -> None:
    """Fetch every file through the app itself and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-kb", type=float, default=150.0)
    budget = parser.parse_args().budget_kb
    client = create_app(TestConfig).test_client()
    with client.get("/m/sw.js") as response:
        lists = worker_lists(response.get_data(as_text=True))
    first = ["/m/sw.js"] + lists["PRECACHE"] + [u for u in lists["WORKER_IMPORTS"] if u not in lists["PRECACHE"]]
    first_total = table(client, "First load (shell, modules, manifest, service worker)", first)
    later_total = table(client, "Cached in the background after start (manual map pick)", lists["DEFERRED"])
    verdict = "within" if first_total <= budget * 1024 else "OVER"
    print(f"\nfirst load: {first_total / 1024:.1f} KB gzip ({verdict} the {budget:.0f} KB budget); "
          f"with Leaflet: {(first_total + later_total) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
