# Set-up and entry points. `make serve` and `make test` each create .venv, install the project with
# the CPU build of torch, install and verify the embedding model, then serve or run the tests.
# Both are idempotent: a second run skips what is done.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser serve test clean-index

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: 2.13.0 is the CPU build; an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/rag model install

serve: setup
	$(BIN)/rag serve

# The page's tests drive Debian's chromium through Playwright (whose own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "warning: chromium could not be installed; the browser tests will be skipped"

test: setup browser
	$(BIN)/ruff check rag service tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

clean-index:
	rm -rf index/generations index/segments index/CURRENT index/sources.json index/embeddings.sqlite*
