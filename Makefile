# Two commands for a newcomer: `make run` (the whole platform) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint fmt clean bench lock

# The venv is (re)built when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/borderflow up

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# Benchmarks against the real dev server (docs/performance.md); not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench

# The image's locked, hash-checked requirement set: [project].dependencies and everything they
# pull, never the `local` or `dev` extras (docs/operations.md, Building the image). Pins already
# in the file are kept unless pyproject.toml changes them; run it after changing dependencies.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o deploy/requirements.lock pyproject.toml
