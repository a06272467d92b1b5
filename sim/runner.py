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
from spinaps.toolchain import ToolError, simulator as get_simulator, write_verilog

__all__ = ["RtlRun", "run_rtl", "simulate"]


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


def simulate(top, name, *, build_dir, test_module, out_file, env=None, testcase=None, sim=None, waves=None,
             build_info=None):
    """Write ``top`` as ``<name>.v``, build it with simulator ``sim``, run a cocotb test, read its JSON.

    The one place that drives a simulator through cocotb (end-to-end and component tiers
    alike); ``sim`` is ``"icarus"``, ``"verilator"`` or None (``$SPINAPS_SIMULATOR``, else
    Icarus), with the build options of :func:`spinaps.toolchain.simulator` (a missing
    simulator raises :class:`~spinaps.toolchain.ToolError`). Verilator models are compiled
    once per design and options (:mod:`spinaps.sim.model_cache`). ``out_file`` is the JSON
    the test writes; a failed test raises ``SystemExit`` (cocotb's runner), a test that wrote
    nothing raises ``RuntimeError``. ``waves``: a ``.vcd`` or ``.fst`` file for the
    simulation's waves (every signal of ``top``; written whole or not at all).
    Returns ``(observed dict, seconds spent writing Verilog and compiling)``; a ``build_info``
    dict gets ``simulator`` (the name of the one that ran) and ``cached`` (whether the compiled
    model was reused).
    """
    runner = get_simulator(sim)
    if waves is not None and Path(waves).suffix.lower() not in (".vcd", ".fst"):
        raise ValueError(f"waves file {waves}: name it .vcd or .fst")
    from cocotb_tools.runner import get_results

    t0 = time.perf_counter()
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    vfile, _ = write_verilog(top, build_dir, name)
    if Path(out_file).exists():
        Path(out_file).unlink()
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
    build_s = time.perf_counter() - t0
    xml = runner.test(test_module=test_module, testcase=testcase, hdl_toplevel=name, build_dir=model_dir,
                      test_dir=build_dir, log_file=build_dir / "sim.log",
                      extra_env={**(env or {}), OUT_ENV: str(out_file)}, **test_opts)
    tests, failed = get_results(xml)
    if tests == 0 or failed:
        raise RuntimeError(f"cocotb {test_module} ({testcase or 'all'}) on {name}: {tests} run, {failed} failed; "
                           f"see {build_dir / 'sim.log'}")
    if not Path(out_file).exists():
        raise RuntimeError(f"the cocotb test {test_module} ({testcase or 'all'}) wrote no results; "
                           f"see {build_dir / 'sim.log'}")
    if waves is not None:
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
    if build_info is not None:
        build_info.update(simulator=runner.name, cached=cached)
    return json.loads(Path(out_file).read_text()), build_s


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
    # Generous bound: every input and every layer's every row word at every step.
    per_step = acc.encoder.groups + 64 + sum(layer.n_in * layer.k * layer.words + layer.n_in + layer.words
                                             for layer in acc.layers)
    max_cycles = int(4 * (len(beats) / valid_prob + n * (model.t_max * per_step) / ready_prob) + 10_000)
    raw, build_s = simulate(harness, "e2e_harness", build_dir=build_dir, test_module="spinaps.sim.cocotb_e2e",
                            out_file=Path(build_dir).resolve() / "e2e_out.json",
                            env={"SPINAPS_E2E_MAX_CYCLES": str(max_cycles),
                                 "SPINAPS_E2E_LAYERS": str(len(acc.layers))}, waves=waves,
                            sim=simulator, build_info=(info := {}))

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
                  build_s=build_s, probe_overflow=bool(raw["probe_overflow"]), simulator=info["simulator"],
                  build_cached=info["cached"])
