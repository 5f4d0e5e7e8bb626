# make demo  -> the Besiroglu et al. refit (examples/besiroglu_refit.py), results in results/
# make test  -> the test suite
# Both create .venv from a discovered Python >= 3.12 and install the package on first use.

VENV := .venv
PY := $(VENV)/bin/python

# Use the shared datasets when they sit beside the project and nothing else was chosen.
ifeq ($(origin BAYESCALE_DATA_DIR), undefined)
ifneq ($(wildcard ../shared/data),)
export BAYESCALE_DATA_DIR := $(abspath ../shared/data)
endif
endif

.PHONY: demo test test-fast bench lint clean

$(VENV)/.installed: pyproject.toml
	@interp=$$(sh scripts/find-python) && echo "using $$interp" && \
		{ $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || \
		  { rm -rf $(VENV) && "$$interp" -m venv $(VENV); }; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

demo: $(VENV)/.installed
	$(PY) examples/besiroglu_refit.py --out results/besiroglu_refit

test: $(VENV)/.installed
	@$(PY) -m pytest -ra -n 2; rc=$$?; echo $$rc > .pytest-exit-code; exit $$rc

test-fast: $(VENV)/.installed
	$(PY) -m pytest -ra -n 2 -m "not slow"

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_chinchilla.py

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) results .pytest_cache
