# spinaps: every target first runs scripts/bootstrap.sh (idempotent: creates .venv,
# installs the package, checks Icarus), so a fresh clone needs only `make demo` / `make test`.

VENV    := .venv
PYTHON  := $(VENV)/bin/python
SPINAPS := $(VENV)/bin/spinaps

MODEL   ?= build/model/digits.npz
DATASET ?= digits
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="tests/sw -x"`.
PYTEST_ARGS ?=

BOOTSTRAP_FLAGS :=
# The test targets pre-compile YoWASP Yosys (up to ~5.5 minutes, once per machine) before the
# first synthesis test, rather than letting both xdist workers compile it at once.
# (A target-specific variable also applies to the prerequisite `setup`.)
test test-full: BOOTSTRAP_FLAGS := --warm-yosys

.PHONY: setup demo test test-full train verilog bench bench-quick clean

setup:
	@bash scripts/bootstrap.sh $(BOOTSTRAP_FLAGS)

demo: setup
	$(SPINAPS) demo

# Default selection (pyproject addopts): everything except `slow` and `board`.
test: setup
	$(PYTHON) -m pytest -n 2 $(PYTEST_ARGS)

# Also the long regressions; this -m replaces the default one from addopts.
test-full: setup
	$(PYTHON) -m pytest -n 2 -m "not board" $(PYTEST_ARGS)

train: setup
	$(SPINAPS) train --dataset $(DATASET) --out $(MODEL)

verilog: setup
	$(SPINAPS) verilog --model $(MODEL)

# Every benchmark (GLM, hidden-LIF networks, soft-LIF, cost model, tool speed), then
# bench/RESULTS.md from all the JSON files; stage logs in build/bench_logs/.
bench: setup
	$(PYTHON) bench/suite.py

# The same on digits only with small RTL subsets (within 5 minutes on 2 cores).
bench-quick: setup
	$(PYTHON) bench/suite.py --quick

# Build outputs and caches only; .venv stays (remove it by hand to start over).
clean:
	rm -rf build sim_build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} + -o \
	    -name '*.vcd' -type f -exec rm -f {} +
