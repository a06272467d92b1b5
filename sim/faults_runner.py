"""Run the accelerator with its weights loaded at run time into faulty STT-RAM, on Icarus or
Verilator, and check it against the golden model on the faulted weights (docs/semantics.md 9.1).

:func:`run_loaded` simulates: memories start erased, the write sequence goes through the
top's ``weights`` stream (with valid stalls), then the samples run (with stalls on ``sample``
and ``result``). :func:`check_loaded` adds the golden side: :mod:`spinaps.sw.write_faults`
predicts every memory's contents and counters from (p, fault seed, write sequence), the
golden model runs on the faulted weights, and every spike, class, step and counter must agree.
"""

from dataclasses import dataclass, field
from pathlib import Path

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.layouts import unpack
from spinaps.sim.compare import Comparison, compare_with_golden, sample_beats
from spinaps.sim.faults_harness import FaultsHarness, LoadingAccelerator
from spinaps.sim.runner import RtlRun, simulate
from spinaps.sw import write_faults

__all__ = ["LoadedRun", "interleaved", "run_loaded", "check_loaded"]


@dataclass
class LoadedRun:
    run: RtlRun                      # the inferences, as spinaps.sim.runner.run_rtl returns them
    counters: list                   # per layer: writes, write_errors, retries, write_cycles
    loaded: bool                     # the load finished before the samples
    comparison: Comparison = None    # set by check_loaded
    expected: list = field(default_factory=list)    # per layer WriteStats (check_loaded)


def interleaved(sequence):
    """Round-robin over the layers' write lists (order within a layer kept):
    ``(layer, addr, word)`` beats of the ``weights`` stream."""
    out, lists = [], [list(s) for s in sequence]
    for n in range(max(len(s) for s in lists)):
        out += [(layer, *s[n]) for layer, s in enumerate(lists) if n < len(s)]
    return out


def _decode(acc, raw):
    rl = acc.result.payload.shape()
    probes = []
    for index, words in enumerate(raw["probes"]):
        pl = acc.probe(index)[0].shape()
        probes.append([dict(unpack(pl, w & ((1 << pl.size) - 1)), sample=w >> pl.size) for w in words])
    return [unpack(rl, r) for r in raw["results"]], probes


def run_loaded(model, xs, seeds, *, build_dir, p, fault_seed, retries=0, write_latency=4, read_latency=2,
               sequence=None, load_valid_prob=1.0, valid_prob=1.0, ready_prob=1.0, stall_seed=0x2545F491,
               simulator=None):
    """Simulate a load of ``sequence`` (per layer ``(addr, word)`` lists; default: the whole
    network, :func:`spinaps.sw.write_faults.load_sequence`) into erased STT-RAM memories with
    write-error probability ``p``, fault seed ``fault_seed`` and ``retries`` re-writes, then
    ``len(seeds)`` inferences. Returns a :class:`LoadedRun`."""
    sequence = write_faults.load_sequence(model) if sequence is None else sequence
    options = dict(read_latency=read_latency, write_latency=write_latency, write_error_prob=p,
                   write_error_seed=fault_seed, write_retries=retries, erased=True)
    acc = Accelerator(model, memory="sttram", memory_options=options)
    writes = interleaved(sequence)
    loading = LoadingAccelerator(acc, writes, valid_prob=load_valid_prob, stall_seed=stall_seed ^ 0x5A5A5A5A)
    beats = sample_beats(xs, seeds)
    n = len(seeds)
    harness = FaultsHarness(loading, beats, n, valid_prob=valid_prob, ready_prob=ready_prob, stall_seed=stall_seed)
    per_step = acc.encoder.groups + 64 + sum(layer.n_in * layer.k * layer.words + layer.n_in + layer.words
                                             for layer in acc.layers)
    load_cycles = len(writes) * ((retries + 1) * (write_latency + 1) + 1) / load_valid_prob
    max_cycles = int(4 * (load_cycles + len(beats) / valid_prob + n * model.t_max * per_step / ready_prob) + 10_000)
    build_dir = Path(build_dir).resolve()
    raw, build_s = simulate(harness, "faults_harness", build_dir=build_dir, test_module="spinaps.sim.cocotb_faults",
                            out_file=build_dir / "faults_out.json",
                            env={"SPINAPS_E2E_MAX_CYCLES": str(max_cycles), "SPINAPS_E2E_LAYERS": str(len(acc.layers))},
                            sim=simulator, build_info=(info := {}))
    results, probes = _decode(acc, raw)
    run = RtlRun(results=results, probes=probes, sim_cycles=raw["cycles"], sim_wall_s=raw["wall_s"],
                 build_s=build_s, probe_overflow=bool(raw["probe_overflow"]), simulator=info["simulator"],
                 build_cached=info["cached"])
    return LoadedRun(run=run, counters=raw["counters"], loaded=bool(raw["loaded"]))


def check_loaded(model, xs, seeds, *, p, fault_seed, retries=0, write_latency=4, sequence=None, **run_options):
    """:func:`run_loaded`, then the golden side: the memories' contents and counters predicted by
    :mod:`spinaps.sw.write_faults`, the golden model on the faulted weights. The returned
    run's ``comparison`` lists every difference (inferences and write counters)."""
    loaded = run_loaded(model, xs, seeds, p=p, fault_seed=fault_seed, retries=retries,
                        write_latency=write_latency, sequence=sequence, **run_options)
    words, stats = write_faults.load_network(model, p=p, seed=fault_seed, retries=retries,
                                             write_latency=write_latency, sequence=sequence)
    faulted = write_faults.faulted_model(model, words)
    cmp = compare_with_golden(faulted, xs, seeds, loaded.run.results, loaded.run.probes)
    if not loaded.loaded:
        cmp.mismatches.append((-1, "load finished", False, True))
    for index, (rtl, gold) in enumerate(zip(loaded.counters, stats)):
        expect = gold.counters()
        for name in write_faults.WRITE_COUNTERS:
            if rtl[name] != expect[name]:
                cmp.mismatches.append((-1, f"layer {index} {name}", rtl[name], expect[name]))
    if loaded.run.probe_overflow:
        cmp.mismatches.append((-1, "probe capture overflow", True, False))
    loaded.comparison, loaded.expected = cmp, stats
    return loaded, faulted
