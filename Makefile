# Two commands do all the set-up on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Re-install when the dependency list or the pinned versions change, not on every call.
STAMP := $(VENV)/.installed-stamp
# The exact versions the tests ran with (scripts/freeze_constraints.py writes it from a tested venv).
CONSTRAINTS := constraints.txt
SHARED_DATASETS := ../shared/datasets

.PHONY: venv demo test lint bench bench-full constraints clean browser fuzz java

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,spark]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@bash scripts/demo.sh

# The suite, then the notebooks top to bottom (nbmake) on small simulated data.
test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbmake notebooks/

# The API's OpenAPI schema fuzzed by Schemathesis with many more examples than the suite's quick run.
fuzz: $(STAMP)
	LEADRIPE_FUZZ_EXAMPLES=300 $(BIN)/python -m pytest tests/serving/test_fuzz.py -q -p no:logging

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every benchmark in bench/, quick: small sizes, figures printed, BENCHMARKS.md left alone (~5 min).
bench: $(STAMP)
	$(BIN)/python bench/bench_simulator.py --leads 2000 20000
	$(BIN)/python bench/bench_features.py --leads 20000 --fit-leads 20000 --snapshot-leads 20000
	$(BIN)/python bench/bench_profile_history.py --leads 20000
	$(BIN)/python bench/bench_quality.py --leads 3000
	$(BIN)/python bench/bench_api.py --train-leads 1000 --requests 300 --concurrency 4 --rounds 1 \
	  --batches 1 --batch-size 100 --max-seconds 15
	@echo "bench_datasets.py: skipped in the quick run (trains on three real exports, minutes each);" \
	  "\`make bench-full\` runs it when $(SHARED_DATASETS) exists"

# The sizes BENCHMARKS.md reports, each section rewritten (--write). Long: about an hour on 2 cores,
# 1M-lead runs need ~8 GiB.
bench-full: $(STAMP)
	$(BIN)/python bench/bench_simulator.py --write
	$(BIN)/python bench/bench_features.py --write
	$(BIN)/python bench/bench_profile_history.py --write
	$(BIN)/python bench/bench_quality.py --write
	$(BIN)/python bench/bench_api.py --write
	@if [ -d $(SHARED_DATASETS) ]; then $(BIN)/python bench/bench_datasets.py --write; \
	else echo "bench_datasets.py: skipped, $(SHARED_DATASETS) not found (the public CRM exports)"; fi
	@if [ -d $(SHARED_DATASETS) ]; then LEADRIPE_SHARED_DATASETS=$(SHARED_DATASETS) \
	  $(BIN)/python bench/bench_models.py --write; \
	else echo "bench_models.py: skipped, $(SHARED_DATASETS) not found (the public CRM exports)"; fi

# Re-pin constraints.txt to the versions installed in .venv (after changing dependencies and testing).
constraints: $(STAMP)
	$(BIN)/python scripts/freeze_constraints.py

# Headless Chromium (Debian's package) for the test that renders the marketing report; needs root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

# A Java runtime (Debian's package) for the Spark tests (PySpark runs Spark in a JVM); needs root.
java:
	@command -v java >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }
	@java -version 2>&1 | head -1

clean:
	rm -rf $(VENV) out mlruns mlflow.db
