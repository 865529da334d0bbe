# The README's quickstart: `make demo` and `make test` bootstrap everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the package metadata changes.
$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,plot]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/itersolve demo

# Numba's on-disk cache is for users; tests compile afresh into a throwaway directory.
# The second run executes the kernels as plain Python, so they stay valid Python.
test: $(STAMP)
	ITERSOLVE_NUMBA_CACHE=0 NUMBA_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m pytest -q
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q tests/test_kernels*.py tests/test_learn_kernels.py

$(VENV)/.installed-docs: pyproject.toml setup.py $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict -f docs/mkdocs.yml

$(VENV)/.installed-bench: pyproject.toml setup.py $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@

# Every benchmarks/bench_*.py runs its peers in the same process and prints ratios.
bench: $(VENV)/.installed-bench
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check itersolve gpu theory tests benchmarks docs

clean:
	rm -rf $(VENV) build site *.egg-info
