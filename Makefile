# Two entry points: `make run` (the main job on the embedded iris data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bayesprune run $(ARGS)

# The suite runs on every core (pytest-xdist), a test file per worker so module fixtures are built once. JAX
# compiles without most of XLA's optimisations (tests/conftest.py says why and which tests turn them back on), set
# here too so every process of the suite has it before anything starts XLA.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	JAX_DISABLE_MOST_OPTIMIZATIONS="$${JAX_DISABLE_MOST_OPTIMIZATIONS:-1}" $(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
