"""Run the accelerator on Icarus or Verilator through cocotb and return what it computed.

Used by the cocotb test tier, ``spinaps verify`` and ``make demo``; the comparison with the
golden model is ``spinaps.sim.compare.compare_with_golden``.
"""

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.layouts import unpack
from spinaps.sim.cocotb_env import OUT_ENV
from spinaps.sim.compare import sample_beats
from spinaps.sim.harness import EndToEndHarness
from spinaps.sim.model_cache import cached_build
from spinaps.toolchain import ToolError, atomic_write_text, simulator as get_simulator, write_verilog

__all__ = ["RtlRun", "run_rtl", "simulate", "build_model", "run_model", "Model", "e2e_env", "decode_run"]


def _wave_options(sim, waves, build_dir):
    """``(build kwargs, test kwargs, file the run writes)`` for waves in the format of the
    suffix of ``waves`` (.vcd or .fst) on simulator ``sim``.

    Icarus: cocotb's runner always asks vvp for FST (``-fst`` after the caller's plusargs, and
    the last format flag wins), so for a ``.vcd`` the flag is swapped in its test command.
    Verilator: tracing is compiled in (``--trace``, plus ``--trace-fst`` for FST: a model of
    its own in the cache) and the executable takes the file name; its FST writer needs the
    LZ4 headers (Debian liblz4-dev), checked before the build.
    """
    fmt = Path(waves).suffix.lower().lstrip(".")
    tmp = build_dir / f"waves.{fmt}"
    tmp.unlink(missing_ok=True)
    if sim.name == "verilator":
        if fmt == "fst" and not _has_header("lz4.h"):
            raise ToolError(f"waves file {waves}: Verilator's FST writer needs the LZ4 headers; install the "
                            f"Debian package liblz4-dev (`make setup` does as root), or name the file .vcd")
        return ({"waves": True, "build_args": ["--trace-fst"] if fmt == "fst" else []},
                {"waves": True, "test_args": ["--trace-file", str(tmp)]}, tmp)
    if fmt == "vcd":
        inner = sim.runner
        command = inner._test_command

        def vcd_command():
            return [["-vcd" if arg == "-fst" else arg for arg in cmd] for cmd in command()]

        inner._test_command = vcd_command
    return {"waves": True}, {"waves": True, "plusargs": [f"+dumpfile_path={tmp}"]}, tmp


def _has_header(name):
    """Whether the C++ compiler's usual include folders (and ``$CPATH``) hold header ``name``."""
    dirs = ["/usr/include", "/usr/local/include", *os.environ.get("CPATH", "").split(os.pathsep)]
    return any(d and (Path(d) / name).exists() for d in dirs)


@dataclass
class Model:
    """A design written and compiled for one simulator, ready for any number of runs
    (:func:`run_model`): the Verilator executable from the cache, or Icarus's build folder."""
    runner: object         # spinaps.toolchain.Simulator
    name: str              # top module
    model_dir: Path        # where the compiled model is
    build_dir: Path        # where runs happen (the tests' folder)
    build_s: float         # Verilog generation + compile
    cached: bool           # the compiled model came from the cache
    test_opts: dict        # wave options of the run
    wave_tmp: Path | None  # the file a run with waves writes


def build_model(top, name, *, build_dir, sim=None, waves=None) -> Model:
    """Write ``top`` as ``<name>.v`` (plus its ``verilog_library``, if it has one) and compile
    it with simulator ``sim`` (``"icarus"``, ``"verilator"``, None: ``$SPINAPS_SIMULATOR``, else
    Icarus; a missing simulator raises :class:`~spinaps.toolchain.ToolError`). Verilator models
    are compiled once per design and options (:mod:`spinaps.sim.model_cache`)."""
    runner = get_simulator(sim)
    if waves is not None and Path(waves).suffix.lower() not in (".vcd", ".fst"):
        raise ValueError(f"waves file {waves}: name it .vcd or .fst")
    t0 = time.perf_counter()
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    vfile, _ = write_verilog(top, build_dir, name)
    library = getattr(top, "verilog_library", "")
    if library:
        atomic_write_text(vfile, vfile.read_text() + library)
    build_opts, test_opts, wave_tmp = {}, {}, None
    if waves is not None:
        build_opts, test_opts, wave_tmp = _wave_options(runner, waves, build_dir)
    cached = False
    if runner.cacheable:
        fmt = Path(waves).suffix.lower().lstrip(".") if waves is not None else None
        model_dir, cached = cached_build(runner, vfile, name, waves=fmt, build_kwargs=build_opts)
    else:
        model_dir = build_dir
        runner.build(sources=[vfile], hdl_toplevel=name, build_dir=build_dir, log_file=build_dir / "build.log",
                     **build_opts)
    return Model(runner, name, model_dir, build_dir, time.perf_counter() - t0, cached, test_opts, wave_tmp)


def run_model(model: Model, *, test_module, out_file, env=None, testcase=None, waves=None):
    """Run cocotb test ``test_module`` on a compiled ``model``; return the JSON it wrote to
    ``out_file``. A failed test raises ``SystemExit`` (cocotb's runner), a test that wrote
    nothing raises ``RuntimeError``. ``waves``: where the run's waves go (the model must have
    been built with the same ``waves``)."""
    from cocotb_tools.runner import get_results

    build_dir = model.build_dir
    if Path(out_file).exists():
        Path(out_file).unlink()
    xml = model.runner.test(test_module=test_module, testcase=testcase, hdl_toplevel=model.name,
                            build_dir=model.model_dir, test_dir=build_dir, log_file=build_dir / "sim.log",
                            extra_env={**(env or {}), OUT_ENV: str(out_file)}, **model.test_opts)
    tests, failed = get_results(xml)
    if tests == 0 or failed:
        raise RuntimeError(f"cocotb {test_module} ({testcase or 'all'}) on {model.name}: {tests} run, {failed} failed; "
                           f"see {build_dir / 'sim.log'}")
    if not Path(out_file).exists():
        raise RuntimeError(f"the cocotb test {test_module} ({testcase or 'all'}) wrote no results; "
                           f"see {build_dir / 'sim.log'}")
    if waves is not None:
        wave_tmp = model.wave_tmp
        if not wave_tmp.exists() or wave_tmp.stat().st_size == 0:
            raise RuntimeError(f"the simulation wrote no waves; see {build_dir / 'sim.log'}")
        dest = Path(waves)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f".{dest.name}.tmp{os.getpid()}")     # beside it: the rename is atomic
        try:
            shutil.move(wave_tmp, part)
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
    return json.loads(Path(out_file).read_text())


def simulate(top, name, *, build_dir, test_module, out_file, env=None, testcase=None, sim=None, waves=None,
             build_info=None):
    """Write ``top`` as ``<name>.v``, build it with simulator ``sim``, run a cocotb test, read its JSON.

    The one place that drives a simulator through cocotb (end-to-end and component tiers
    alike): :func:`build_model` then :func:`run_model`. ``sim`` is ``"icarus"``,
    ``"verilator"`` or None (``$SPINAPS_SIMULATOR``, else Icarus). ``out_file`` is the JSON
    the test writes. ``waves``: a ``.vcd`` or ``.fst`` file for the simulation's waves (every
    signal of ``top``; written whole or not at all).
    Returns ``(observed dict, seconds spent writing Verilog and compiling)``; a ``build_info``
    dict gets ``simulator`` (the name of the one that ran) and ``cached`` (whether the compiled
    model was reused).
    """
    model = build_model(top, name, build_dir=build_dir, sim=sim, waves=waves)
    observed = run_model(model, test_module=test_module, out_file=out_file, env=env, testcase=testcase, waves=waves)
    if build_info is not None:
        build_info.update(simulator=model.runner.name, cached=model.cached)
    return observed, model.build_s


@dataclass
class RtlRun:
    results: list          # dicts: cls, step, decided, cycles, events[L], sops[L], busy[L]
    probes: list           # per layer, a list of dicts: sample, step, word, spikes
    sim_cycles: int        # clock cycles simulated by the harness
    sim_wall_s: float      # wall time of the simulation proper (the simulator running)
    build_s: float         # Verilog generation + compile (a cached Verilator model: no compile)
    probe_overflow: bool
    simulator: str = "icarus"      # the simulator that ran (spinaps.toolchain.SIMULATORS)
    build_cached: bool = False     # the compiled model came from the cache (spinaps.sim.model_cache)

    @property
    def cycles_per_second(self):
        return self.sim_cycles / self.sim_wall_s if self.sim_wall_s > 0 else float("nan")


def run_rtl(model, xs, seeds, *, build_dir, memory="sram", memory_options=None,
            valid_prob=1.0, ready_prob=1.0, stall_seed=0x2545F491, waves=None, simulator=None, window=1, adders=1):
    """Simulate ``len(seeds)`` inferences of ``model`` on the generated Verilog with
    ``simulator`` (``"icarus"``, ``"verilator"``; None: ``$SPINAPS_SIMULATOR``, else Icarus).
    ``waves``: a .vcd or .fst file for the waves of the whole run, see :func:`simulate`.
    ``window``, ``adders``: the window schedule (:class:`~spinaps.hdl.accelerator.Accelerator`)."""
    n = len(seeds)
    acc = Accelerator(model, memory=memory, memory_options=memory_options, window=window, adders=adders)
    beats = sample_beats(xs, seeds)
    harness = EndToEndHarness(acc, beats, n, valid_prob=valid_prob, ready_prob=ready_prob,
                              stall_seed=stall_seed)
    raw, build_s = simulate(harness, "e2e_harness", build_dir=build_dir, test_module="spinaps.sim.cocotb_e2e",
                            out_file=Path(build_dir).resolve() / "e2e_out.json",
                            env=e2e_env(acc, model, len(beats), n, valid_prob, ready_prob), waves=waves,
                            sim=simulator, build_info=(info := {}))
    return decode_run(acc, raw, build_s, info["simulator"], info["cached"])


def e2e_env(acc, model, n_beats, n, valid_prob, ready_prob, drive=None):
    """The environment of :mod:`spinaps.sim.cocotb_e2e` for a run of ``n`` samples in
    ``n_beats`` bytes: its time-out, the layer count and the input ports to ``drive``."""
    # Generous bound: every input and every layer's every row word at every step.
    per_step = acc.encoder.groups + 64 + sum(layer.n_in * layer.k * layer.words + layer.n_in + layer.words
                                             for layer in acc.layers)
    max_cycles = int(4 * (n_beats / valid_prob + n * (model.t_max * per_step) / ready_prob) + 10_000)
    env = {"SPINAPS_E2E_MAX_CYCLES": str(max_cycles), "SPINAPS_E2E_LAYERS": str(len(acc.layers))}
    if drive:
        env["SPINAPS_E2E_DRIVE"] = json.dumps(drive)
    return env


def decode_run(acc, raw, build_s, simulator, cached):
    """The :class:`RtlRun` of what :mod:`spinaps.sim.cocotb_e2e` wrote (``raw``)."""
    rl = acc.result.payload.shape()
    results = [unpack(rl, r) for r in raw["results"]]
    probes = []
    for index, words in enumerate(raw["probes"]):
        pl = acc.probe(index)[0].shape()
        layer_probes = []
        for word in words:
            p = unpack(pl, word & ((1 << pl.size) - 1))
            p["sample"] = word >> pl.size
            layer_probes.append(p)
        probes.append(layer_probes)
    return RtlRun(results=results, probes=probes, sim_cycles=raw["cycles"], sim_wall_s=raw["wall_s"],
                  build_s=build_s, probe_overflow=bool(raw["probe_overflow"]), simulator=simulator,
                  build_cached=cached)
