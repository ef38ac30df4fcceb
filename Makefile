# Firstline: the two commands of the README. Both install what is missing first.
.PHONY: run test lint

run:  ## serve the demo city on http://127.0.0.1:5000 (SQLite + SpatiaLite)
	scripts/run.sh

test:  ## the whole suite on SpatiaLite, then on PostGIS in a throwaway cluster
	scripts/test.sh

lint:
	.venv/bin/ruff check .
