"""The public Python API: a hardware model you load or train, then predict, trace, verify, build
and save (docs/api.md).

Shaped like hls4ml's ``convert -> predict -> build`` and snnTorch's recorded spikes: a
:class:`HardwareModel` wraps one validated artifact (the quantized network as the hardware runs
it) and its bit-exact golden model. Everything here calls the same flow functions as the CLI
(:mod:`spinaps.flow`), so a figure from Python and one from ``spinaps ...`` are the same.

    import spinaps
    hw = spinaps.load("build/model/digits.npz")
    classes = hw.predict(x)            # uint8 intensities [N, frames * n_inputs]
    trace = hw.trace(x[:1])            # every layer's spikes and potentials, class, step, counters
    report = hw.verify(n=20)           # RTL in simulation vs predict, spike for spike
    hw.build("verilog", "build/v")     # or "xc7a35t", "ice40up5k", "ecp5-85f", "icebreaker", "ulx3s"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spinaps import flow
from spinaps.contract import sample_seeds
from spinaps.sw import artifact as art
from spinaps.data import as_dataset, data_for
from spinaps.sw.golden import GoldenModel

__all__ = ["HardwareModel", "Trace", "VerifyReport", "load", "train", "search", "BUILD_TARGETS"]

#: What :meth:`HardwareModel.build` makes: Verilog, Yosys resources per device, or a
#: place-and-route (Fmax, bitstream) per open board.
BUILD_TARGETS = ("verilog", "xc7a35t", "xc7a100t", "ice40up5k", "ecp5-85f", "icebreaker", "ulx3s")
_NETWORKS = ("glm", "hybrid", "lif", "softlif")


@dataclass(frozen=True)
class Trace:
    """What one batch did inside the accelerator, per the golden model (docs/semantics.md).

    ``layer_spikes[l]`` and ``layer_potentials[l]`` are ``[N, T, n_out_l]`` (spikes are zero
    after each sample's decision step; potentials cover the whole run); ``input_spikes`` is
    ``[N, T, n_inputs]``; ``events`` and ``sops`` are ``[N, layers]`` over steps 1..step.
    """

    classes: np.ndarray
    step: np.ndarray
    decided: np.ndarray
    input_spikes: np.ndarray
    layer_spikes: list
    layer_potentials: list
    events: np.ndarray
    sops: np.ndarray


@dataclass(frozen=True)
class VerifyReport:
    """RTL against the golden model on ``samples`` test samples."""

    samples: int
    mismatches: list            # (sample, what, rtl, golden); empty when RTL == golden
    accuracy_rtl: float
    cycles_mean: float
    cycles_per_second: float
    simulator: str = "icarus"           # the simulator that ran
    cycles_simulated: int = 0           # clock cycles simulated in all
    compile_s: float = 0.0              # Verilog generation + compile (a cached model: ~0)
    wall_s: float = 0.0                 # the whole check

    @property
    def ok(self) -> bool:
        return not self.mismatches


class HardwareModel:
    """A quantized network as spinaps builds it: one validated artifact and its golden model.

    Parameters
    ----------
    artifact : spinaps.sw.artifact.Artifact
        From :func:`load`, :func:`train` or :func:`spinaps.sw.artifact.from_memory`.
    """

    def __init__(self, artifact):
        if not isinstance(artifact, art.Artifact):
            raise TypeError(f"HardwareModel takes a validated artifact (spinaps.load(path) or "
                            f"spinaps.sw.artifact.from_memory), not a {type(artifact).__name__}")
        self.artifact = artifact
        self.golden = GoldenModel.from_artifact(artifact)

    def __repr__(self):
        return f"HardwareModel({flow.summarize_network(self.artifact)}, {self.artifact.decision}, " \
               f"t_max={self.artifact.t_max})"

    @property
    def manifest(self) -> dict:
        return self.artifact.manifest

    def _seeds(self, n, seeds):
        return sample_seeds(n) if seeds is None else np.asarray(seeds, dtype=np.int64)

    def trace(self, x, seeds=None) -> Trace:
        """Every layer's spikes and potentials for samples ``x`` (uint8 ``[N, frames *
        n_inputs]`` or ``[N, frames, n_inputs]``); ``seeds`` default to the sample indices
        (the convention of every report, docs/semantics.md section 1)."""
        x = np.asarray(x)
        r = self.golden.run(x, self._seeds(len(x), seeds))
        return Trace(classes=r.cls, step=r.step, decided=r.decided, input_spikes=r.input_spikes,
                     layer_spikes=r.layer_spikes, layer_potentials=r.layer_potentials,
                     events=r.events, sops=r.sops)

    def predict(self, x, seeds=None) -> np.ndarray:
        """The class the accelerator decides for each sample (bit-exact golden model)."""
        return self.trace(x, seeds).classes

    def verify(self, n=20, *, data=None, memory="sram", stall=0.2,
               build_dir="build/api_verify", all=False, simulator=None, progress=None) -> VerifyReport:
        """Run the first ``n`` test samples of the model's data set (``data``: a Dataset, a
        built-in name or a file; default the model's own built-in data) on the RTL (cocotb)
        with random valid/ready stalls (probability ``stall`` per cycle, 0: none) and compare
        every spike, class, step and counter with the golden model.

        ``all=True``: every test sample (``n`` is ignored), in batches through one compiled
        model, by default on Verilator; ``progress(done, total, run)`` after each batch.
        ``simulator``: ``"icarus"`` or ``"verilator"`` (None: ``$SPINAPS_SIMULATOR``, else
        Icarus; with ``all``: Verilator)."""
        import time

        if not 0.0 <= stall < 1.0:
            raise ValueError(f"stall = {stall}: give a probability in 0 <= p < 1")
        if not all and n < 1:
            raise ValueError(f"n = {n}: verify at least one sample")
        ds = data_for(self.artifact, data)
        if all:
            run, labels = flow.rtl_check_all(self.artifact, build_dir=build_dir, memory=memory, stall=stall,
                                             dataset=ds, simulator=simulator or "verilator", progress=progress)
            return VerifyReport(samples=run.samples, mismatches=list(run.comparison.mismatches),
                                accuracy_rtl=float(np.mean(np.asarray(run.classes) == np.asarray(labels))),
                                cycles_mean=float(np.mean(run.cycles)), cycles_per_second=run.cycles_per_second,
                                simulator=run.simulator, cycles_simulated=run.cycles_simulated,
                                compile_s=run.compile_s, wall_s=run.wall_s)
        t0 = time.perf_counter()
        run, cmp, labels = flow.rtl_check(self.artifact, n, build_dir=build_dir, memory=memory,
                                          stall=stall, dataset=ds, simulator=simulator)
        cls = np.array([r["cls"] for r in run.results])
        cycles = np.array([r["cycles"] for r in run.results], dtype=float)
        return VerifyReport(samples=len(run.results), mismatches=list(cmp.mismatches),
                            accuracy_rtl=float(np.mean(cls == np.asarray(labels))),
                            cycles_mean=float(cycles.mean()), cycles_per_second=run.cycles_per_second,
                            simulator=run.simulator, cycles_simulated=run.sim_cycles, compile_s=run.build_s,
                            wall_s=time.perf_counter() - t0)

    def build(self, target="verilog", out_dir=None, *, memory="sram", n=20) -> dict:
        """Verilog, a Yosys resource report, or place-and-route for an open board.

        ``target``: ``"verilog"``; a device (``xc7a35t``, ``xc7a100t``, ``ice40up5k``,
        ``ecp5-85f``: resources and whether it fits); or a board (``icebreaker``, ``ulx3s``:
        nextpnr Fmax, utilization and microseconds per inference from ``n`` RTL samples).
        Returns the report as a dict (for Verilog: the paths).
        """
        if target not in BUILD_TARGETS:
            raise ValueError(f"target = {target!r} is not one of {', '.join(BUILD_TARGETS)}")
        out = Path(out_dir or f"build/api_{target}")
        if target == "verilog":
            v, j = flow.write_accelerator_verilog(self.artifact, out, memory=memory)
            return {"verilog": str(v), "ports": str(j)}
        if target in ("icebreaker", "ulx3s"):
            return flow.pnr_report(self.artifact, [target], out, n=n)[0]
        return flow.synth_report(self.artifact, out, targets=[target], memory=memory)[0]

    def save(self, path) -> Path:
        """Write the artifact (validated, atomic); returns the path."""
        return art.save(path, self.artifact.manifest, self.artifact.arrays)


def load(path) -> HardwareModel:
    """A hardware model from an artifact file (every rule of docs/artifact.md checked)."""
    return HardwareModel(art.load(path))


def train(data="digits", network="glm", *, out=None, encoder="bernoulli", encoder_lanes=None, lanes=None,
          progress=True, threads=None, **config) -> HardwareModel:
    """Train a network on a data set, export it and save its artifact to ``out`` (default
    ``build/model/<data set>_<network>.npz``; the float checkpoint goes beside it).

    ``data``: a built-in name (``digits``, ``mnist5k``, ``fashion``, ``motions``), a data file
    (``.npz`` / ``.csv``, docs/data.md) or a :class:`~spinaps.sw.datasets.Dataset` (e.g.
    ``Dataset.from_arrays(x_train, y_train, x_test, y_test)``).

    ``network``: ``glm`` (SpinAPS), ``hybrid`` / ``lif`` (``hidden=(64,)``, ``decision=...``),
    ``softlif``. ``config`` goes to the network's config class (``GlmTrainConfig``,
    ``LifNetConfig``, ``SoftLifConfig``; e.g. ``epochs=5, weight_bits=1``). ``lanes`` may be a
    list, one per layer. ``encoder``: ``bernoulli`` or ``deterministic`` (docs/semantics.md 3).
    ``threads``: torch threads while training (``spinaps train --threads``; None: the automatic
    choice of :mod:`spinaps.threads`, one thread on a busy machine, where torch's default of
    one per core ran 3-20x slower); torch's setting is restored afterwards.
    """
    if network not in _NETWORKS:
        raise ValueError(f"network = {network!r} is not one of {', '.join(_NETWORKS)}")
    from spinaps.threads import choose_threads
    n_threads, _ = choose_threads(threads, field="threads")    # a bad value fails before any work
    ds = as_dataset(data)                          # bad data fails before any work
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        return _train(ds, network, out, encoder, encoder_lanes, lanes, progress, config)
    finally:
        torch.set_num_threads(before)


def _train(ds, network, out, encoder, encoder_lanes, lanes, progress, config):
    out = Path(out or f"build/model/{ds.name}_{network}.npz")
    hw = {"encoder": encoder} if encoder_lanes is None else {"encoder": encoder, "encoder_lanes": encoder_lanes}
    if network == "glm":
        from spinaps.sw.train import GlmTrainConfig
        artifact, _, _ = flow.train_and_export(ds, out, config=GlmTrainConfig(**config), lanes=lanes,
                                               progress=progress, **hw)
    elif network == "softlif":
        from spinaps.sw.softlif import SoftLifConfig
        keys = ("weight_bits", "t_max")
        conv = {k: config.pop(k) for k in keys if k in config}
        artifact, _, _ = flow.train_softlif_and_export(ds, out, config=SoftLifConfig(**config), lanes=lanes,
                                                       progress=progress, **conv, **hw)
    else:
        from spinaps.sw.lif import LifNetConfig
        config.setdefault("output", "glm" if network == "hybrid" else "lif")
        artifact, _, _ = flow.train_network_and_export(ds, out, config=LifNetConfig(**config), lanes=lanes,
                                                       progress=progress, **hw)
    return HardwareModel(artifact)


def search(space="digits", **options):
    """The architecture search of ``spinaps search`` (docs/search.md): Optuna NSGA-II over the
    training tier, every lanes / schedule point inside each trial, on a local Dask cluster or
    ``scheduler="tcp://HOST:PORT"``. Options as :func:`spinaps.search.search` (``out``,
    ``targets``, ``trials``, ``seed``, ``fit``, ``confirm``...). Returns its
    :class:`~spinaps.search.SearchResult` (every point, the Pareto set, the chosen artifacts)."""
    from spinaps.search import search as run_search
    return run_search(space, **options)
