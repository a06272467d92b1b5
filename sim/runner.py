"""Run the accelerator on Icarus through cocotb and return what it computed.

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
from spinaps.toolchain import simulator, write_verilog

__all__ = ["RtlRun", "run_rtl", "simulate"]


def _wave_format(runner, waves):
    """Make the Icarus runner dump ``waves`` in the format its suffix names (.vcd or .fst).

    cocotb's Icarus runner always asks vvp for FST (``-fst`` after the caller's plusargs, and
    the last format flag wins), so for a ``.vcd`` the flag is swapped in its test command.
    """
    if Path(waves).suffix.lower() == ".vcd":
        inner, command = runner.runner, runner.runner._test_command

        def vcd_command():
            return [["-vcd" if arg == "-fst" else arg for arg in cmd] for cmd in command()]

        inner._test_command = vcd_command


def simulate(top, name, *, build_dir, test_module, out_file, env=None, testcase=None, sim="icarus", waves=None):
    """Write ``top`` as ``<name>.v``, build it with simulator ``sim``, run a cocotb test, read its JSON.

    The one place that drives a simulator through cocotb (end-to-end and component tiers
    alike); the simulator and its build options are :func:`spinaps.toolchain.simulator`'s
    (a missing simulator raises :class:`~spinaps.toolchain.ToolError`). ``out_file`` is the
    JSON the test writes; a failed test raises ``SystemExit`` (cocotb's runner), a test that
    wrote nothing raises ``RuntimeError``. ``waves``: a ``.vcd`` or ``.fst`` file for the
    simulation's waves (Icarus dumps every signal of ``top``; written whole or not at all).
    Returns ``(observed dict, seconds spent writing Verilog and compiling)``.
    """
    runner = simulator(sim)
    if waves is not None and Path(waves).suffix.lower() not in (".vcd", ".fst"):
        raise ValueError(f"waves file {waves}: name it .vcd or .fst")
    from cocotb_tools.runner import get_results

    t0 = time.perf_counter()
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    vfile, _ = write_verilog(top, build_dir, name)
    if Path(out_file).exists():
        Path(out_file).unlink()
    wave_opts, wave_tmp = {}, None
    if waves is not None:
        wave_tmp = build_dir / f"waves{Path(waves).suffix.lower()}"
        wave_tmp.unlink(missing_ok=True)
        _wave_format(runner, waves)
        wave_opts = {"waves": True, "plusargs": [f"+dumpfile_path={wave_tmp}"]}
    runner.build(sources=[vfile], hdl_toplevel=name, build_dir=build_dir, log_file=build_dir / "build.log",
                 waves=waves is not None)
    build_s = time.perf_counter() - t0
    xml = runner.test(test_module=test_module, testcase=testcase, hdl_toplevel=name, build_dir=build_dir,
                      test_dir=build_dir, log_file=build_dir / "sim.log",
                      extra_env={**(env or {}), OUT_ENV: str(out_file)}, **wave_opts)
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
    return json.loads(Path(out_file).read_text()), build_s


@dataclass
class RtlRun:
    results: list          # dicts: cls, step, decided, cycles, events[L], sops[L], busy[L]
    probes: list           # per layer, a list of dicts: sample, step, word, spikes
    sim_cycles: int        # clock cycles simulated by the harness
    sim_wall_s: float      # wall time of the simulation proper (Icarus running)
    build_s: float         # Verilog generation + Icarus compile
    probe_overflow: bool

    @property
    def cycles_per_second(self):
        return self.sim_cycles / self.sim_wall_s if self.sim_wall_s > 0 else float("nan")


def run_rtl(model, xs, seeds, *, build_dir, memory="sram", memory_options=None,
            valid_prob=1.0, ready_prob=1.0, stall_seed=0x2545F491, waves=None):
    """Simulate ``len(seeds)`` inferences of ``model`` on the generated Verilog
    (``waves``: a .vcd or .fst file for the waves of the whole run, see :func:`simulate`)."""
    n = len(seeds)
    acc = Accelerator(model, memory=memory, memory_options=memory_options)
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
                                 "SPINAPS_E2E_LAYERS": str(len(acc.layers))}, waves=waves)

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
                  build_s=build_s, probe_overflow=bool(raw["probe_overflow"]))
