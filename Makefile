# spinaps: every target first runs scripts/bootstrap.sh (idempotent: creates .venv,
# installs the package, checks Icarus), so a fresh clone needs only `make demo` / `make test`.

VENV    := .venv
PYTHON  := $(VENV)/bin/python
SPINAPS := $(VENV)/bin/spinaps

MODEL   ?= build/model/digits.npz
# A built-in data set (digits, mnist5k, fashion, motions) or a data file (.npz, .csv).
DATASET ?= digits
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="tests/sw -x"`.
PYTEST_ARGS ?=
# Options of `make bench-search` (bench/search.py), e.g. SEARCH_ARGS="--space mnist5k --target ecp5-85f".
SEARCH_ARGS ?=
# HDL simulator of the cocotb tests that name none and of `make verify`: icarus (default) or
# verilator (compiles each design once, 20-45 s, into build/sim_cache; then 40-60x faster),
# e.g. `make test SPINAPS_SIMULATOR=verilator`.
SPINAPS_SIMULATOR ?=
export SPINAPS_SIMULATOR

BOOTSTRAP_FLAGS :=
# The test targets pre-compile YoWASP Yosys (up to ~5.5 minutes, once per machine) before the
# first synthesis test, rather than letting both xdist workers compile it at once.
# (A target-specific variable also applies to the prerequisite `setup`.)
test test-full: BOOTSTRAP_FLAGS := --warm-yosys

# Board flows: BOARD=icebreaker|ulx3s (bitstream, prog) or arty (vivado-plan, prog).
BOARD   ?= icebreaker
BAUD    ?= 115200
# Core clock through the PLL (MHz); empty: the board's default, 0: the oscillator.
CORE_MHZ ?=
# nextpnr placement seed(s): 3, 1,2,3 or 1-4 (tried in turn until timing is met).
SEED ?=

.PHONY: setup demo test test-full train verilog verify report plot synth pnr bench bench-quick bench-search clean bitstream vivado-plan prog

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
	$(SPINAPS) train --data $(DATASET) --out $(MODEL)

verilog: setup
	$(SPINAPS) verilog --model $(MODEL)

# RTL against the golden model (on $(SPINAPS_SIMULATOR), default Icarus): RTL accuracy and
# cycles per inference. `make verify ALL=1`: the whole test split (default Verilator;
# docs/verification.md).
ALL ?=
verify: setup
	$(SPINAPS) verify --model $(MODEL) $(if $(ALL),--all)

report: setup
	$(SPINAPS) report --model $(MODEL)

# Accuracy by step and the spike raster of test sample SAMPLE: build/plots/*.png.
SAMPLE ?= 0
plot: setup
	$(SPINAPS) report --model $(MODEL) --plot build/plots --sample $(SAMPLE)

# Yosys resource estimates for Artix-7 (xc7a35t, xc7a100t): build/synth/synth.{json,md}.
synth: setup
	$(SPINAPS) synth --model $(MODEL)

# nextpnr (fixed seed) for the iCEBreaker (UP5K) and ULX3S (ECP5-85F) tops: build/pnr/pnr.json.
pnr: setup
	$(SPINAPS) pnr --model $(MODEL)

# The open flow (Yosys + nextpnr through YoWASP) to build/$(BOARD)/; report in build/$(BOARD)/report.json.
bitstream: setup
	$(SPINAPS) bitstream --board $(BOARD) --model $(MODEL) --baud $(BAUD) $(if $(CORE_MHZ),--core-mhz $(CORE_MHZ)) $(if $(SEED),--seed $(SEED))

# Arty A7-35: no open 7-series place-and-route here, so the Vivado build archive.
vivado-plan: setup
	$(SPINAPS) vivado-plan --board $(BOARD) --model $(MODEL) --baud $(BAUD)

# openFPGALoader; exits non-zero with a clear message when no board is connected.
prog: setup
	$(SPINAPS) prog --board $(BOARD)

# Every benchmark (GLM, hidden-LIF networks, soft-LIF, cost model, tool speed), then
# bench/RESULTS.md from all the JSON files; stage logs in build/bench_logs/.
bench: setup
	$(PYTHON) bench/suite.py

# The same on digits only with small RTL subsets (within 5 minutes on 2 cores).
bench-quick: setup
	$(PYTHON) bench/suite.py --quick

# The architecture search against the issue's targets (long: tens of minutes; resumes):
# digits on the UP5K by default, SEARCH_ARGS="--space mnist5k --target ecp5-85f ice40up5k" for mnist5k.
bench-search: setup
	$(PYTHON) bench/search.py $(SEARCH_ARGS)
	$(PYTHON) bench/mnist5k_fast.py

# Build outputs and caches only; .venv stays (remove it by hand to start over).
clean:
	rm -rf build sim_build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} + -o \
	    -name '*.vcd' -type f -exec rm -f {} +
