# The two commands of README.md: `make demo` and `make test`. Both are idempotent:
# the virtual environment is (re)installed only when a pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP := $(VENV)/.installed

.PHONY: install demo test check lint typecheck docs bench clean

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
		$(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/skilldeck run --offline --trace demo.trace.jsonl \
		"Triage the incoming bug report, review the patch that fixes it, and assess the design of the retry layer."

test: install
	$(BIN)/python -m pytest -n auto
	$(MAKE) --no-print-directory lint typecheck docs

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site

bench: install
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build site .mypy_cache .ruff_cache
