"""Random valid networks for property tests: a printable spec, the model it builds, a strategy.

:class:`RandomNetwork` is a plain record of every choice (layer sizes and types, weight widths,
K, tau, lanes, encoder type and lanes, decision rule, LIF leak/reset/refractory, thresholds
near saturation, memory kind and latencies, stall pattern, samples). Its ``repr`` is the
reproducer a failing property test prints (:meth:`RandomNetwork.reproducer`: paste it into
Python to rerun the case with :func:`rtl_comparison`).

The parameters of each layer come from the random layer builders of
:mod:`spinaps.sim.models` (one place that knows how to make a layer that fires now and then);
this module only chooses their arguments and the corner cases (saturating thresholds and
biases, strong scales) and sends the network through the artifact builders
(:func:`spinaps.sw.export.golden_to_artifact`, :func:`spinaps.sw.artifact.from_memory`), so
every generated network is also a valid artifact.

:func:`network_strategy` draws specs with hypothesis (a test dependency, imported only when
called), every range from :data:`spinaps.contract.RANGES` and its enums, with caps on the
sizes that cost simulation time (one Icarus compile per example).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from spinaps import contract
from spinaps.contract import DECISIONS, ENCODER_TYPES, RANGES, RESETS, WEIGHT_BITS
from spinaps.sim.models import random_glm_layer, random_lif_layer

__all__ = ["LifSpec", "GlmSpec", "RandomNetwork", "SIZE_CAPS", "network_strategy", "rtl_comparison"]

#: Caps on what costs simulation time (the contract allows far more; see the module docstring).
SIZE_CAPS = {"layers": 3, "n_inputs": 20, "n_out": 12, "t_max": 10, "frames": 3, "u_bits": 9,
             "read_latency": 4, "write_latency": 4, "samples": 4}

#: Threshold choices of a LIF layer: what :func:`random_lif_layer` draws (crossed now and
#: then), the top of the potential range (only a saturated potential fires), or a mix.
THRESHOLDS = ("reachable", "near_top", "mixed")
#: Bias choices: small (what the builder draws) or anywhere in the potential range.
BIASES = ("small", "full")


@dataclass(frozen=True)
class LifSpec:
    """One LIF layer: neurons, lanes and every integer parameter of section 5b."""

    n_out: int
    lanes: int
    weight_bits: int
    v_bits: int
    leak_shift: int
    reset: str
    refractory: int
    thresholds: str = "reachable"
    biases: str = "small"


@dataclass(frozen=True)
class GlmSpec:
    """The GLM output layer (section 5): neurons, lanes, K, tau and widths."""

    n_out: int
    lanes: int
    weight_bits: int
    k: int
    tau: int
    basis_bits: int
    u_bits: int
    scale_bits: int
    scale_shift: int


@dataclass(frozen=True)
class RandomNetwork:
    """A random network, the memory it runs from, its stall pattern and its samples.

    ``layers`` lists :class:`LifSpec` (hidden or output) and at most one :class:`GlmSpec`,
    last. ``seed`` draws every weight, threshold, base seed, intensity and sample seed.
    """

    seed: int
    n_inputs: int
    layers: tuple
    decision: str = "first_to_spike"
    t_max: int = 8
    frames: int = 1
    encoder: str = "bernoulli"
    encoder_lanes: int = 4
    memory: str = "sram"
    read_latency: int = 1
    write_latency: int = 1
    valid_prob: float = 1.0
    ready_prob: float = 1.0
    stall_seed: int = 0x2545F491
    n_samples: int = 3
    density: float = 0.6

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))

    @property
    def memory_options(self):
        """Keyword arguments of the synapse memory (the STT-RAM latencies; SRAM has none)."""
        if self.memory == "sttram":
            return {"read_latency": self.read_latency, "write_latency": self.write_latency}
        return {}

    def _layer_params(self, index, n_in):
        spec = self.layers[index]
        sub = (self.seed * 31 + index) & 0xFFFF_FFFF
        if isinstance(spec, GlmSpec):
            return random_glm_layer(sub, n_in=n_in, n_out=spec.n_out, k=spec.k, tau=spec.tau, lanes=spec.lanes,
                                    weight_bits=spec.weight_bits, basis_bits=spec.basis_bits, u_bits=spec.u_bits,
                                    scale_bits=spec.scale_bits, scale_shift=spec.scale_shift)
        lp = random_lif_layer(sub, n_in=n_in, n_out=spec.n_out, lanes=spec.lanes, weight_bits=spec.weight_bits,
                              v_bits=spec.v_bits, leak_shift=spec.leak_shift, reset=spec.reset,
                              refractory=spec.refractory)
        rng = np.random.default_rng([self.seed, index, 7])
        lo, hi = contract.potential_bounds(spec.v_bits)
        theta, bias = np.asarray(lp.threshold), np.asarray(lp.bias)
        # Near saturation: thresholds within 3 of the largest potential, so only a potential
        # held at (or near) the clamp fires; "mixed" does that for about half the neurons.
        top = np.clip(hi - rng.integers(0, 4, spec.n_out), 1, hi)
        if spec.thresholds == "near_top":
            theta = top
        elif spec.thresholds == "mixed":
            theta = np.where(rng.random(spec.n_out) < 0.5, top, theta)
        if spec.biases == "full":
            bias = rng.integers(lo, hi + 1, spec.n_out)
        # docs/artifact.md rejects a layer no neuron of which can reach its threshold: bring
        # the most excitable neuron's threshold down to its bound (a full bias if needed).
        best = contract.largest_potential(lp.weights, bias, spec.v_bits, spec.leak_shift, self.t_max)
        if (theta > best).all():
            j = int(np.argmax(best))
            if best[j] < 1:
                bias = bias.copy()
                bias[j] = hi
                best = contract.largest_potential(lp.weights, bias, spec.v_bits, spec.leak_shift, self.t_max)
            theta = theta.copy()
            theta[j] = max(1, min(int(theta[j]), int(best[j])))
        return dataclasses.replace(lp, threshold=theta.astype(np.int32), bias=bias.astype(np.int32))

    def golden(self):
        """The network as a :class:`~spinaps.sw.golden.GoldenModel` built directly."""
        from spinaps.sw.golden import GoldenModel

        layers, n_in = [], self.n_inputs
        for index, spec in enumerate(self.layers):
            layers.append(self._layer_params(index, n_in))
            n_in = spec.n_out
        if contract.encoder_draws(self.encoder):
            enc = {"encoder_base_seeds": contract.splitmix32_seeds((self.seed * 7 + 2) & 0xFFFF_FFFF,
                                                                   self.encoder_lanes)}
        else:
            enc = {"encoder_lanes": self.encoder_lanes}
        return GoldenModel(t_max=self.t_max, layers=tuple(layers), decision=self.decision, frames=self.frames,
                           encoder_type=self.encoder, **enc)

    def artifact(self):
        """The network as a validated in-memory artifact (every rule of docs/artifact.md)."""
        from spinaps.sw.artifact import from_memory
        from spinaps.sw.export import golden_to_artifact

        digest = hashlib.sha256(repr(self).encode()).hexdigest()
        manifest, arrays = golden_to_artifact(self.golden(), dataset={"name": "random", "sha256": digest,
                                                                       "n_train": 0, "n_test": 0})
        return from_memory(manifest, arrays)

    def model(self):
        """The golden model of :meth:`artifact` (what the RTL is generated from and compared with)."""
        from spinaps.sw.golden import GoldenModel

        return GoldenModel.from_artifact(self.artifact())

    def stimulus(self):
        """``(intensities [n_samples, frames * n_inputs], seeds [n_samples])`` of this network."""
        rng = np.random.default_rng([self.seed, 0x5A])
        size = (self.n_samples, self.frames * self.n_inputs)
        xs = rng.integers(0, 256, size) * (rng.random(size) < self.density)
        return xs.astype(np.int64), rng.integers(RANGES["seed"].lo, RANGES["seed"].hi + 1, self.n_samples)

    def reproducer(self):
        """Python that reruns this case (what a failing test prints)."""
        return ("from spinaps.sim.random_networks import *\n"
                f"net = {self!r}\n"
                "report, run = rtl_comparison(net, 'build/randnet_repro')\n"
                "print(report.describe())")


def rtl_comparison(net, build_dir, simulator=None):
    """Simulate ``net`` (its memory, stalls and samples) and compare with its golden model:
    ``(Comparison, RtlRun)`` (:func:`spinaps.sim.compare.compare_with_golden`: every spike of
    every layer, the class, the decision step and the counters)."""
    from spinaps.sim.compare import compare_with_golden
    from spinaps.sim.runner import run_rtl

    model = net.model()
    xs, seeds = net.stimulus()
    run = run_rtl(model, xs, seeds, build_dir=build_dir, memory=net.memory, memory_options=net.memory_options,
                  valid_prob=net.valid_prob, ready_prob=net.ready_prob, stall_seed=net.stall_seed,
                  simulator=simulator)
    return compare_with_golden(model, xs, seeds, run.results, run.probes), run


def _int(st, name, cap=None, lo=None):
    r = RANGES[name]
    return st.integers(r.lo if lo is None else lo, r.hi if cap is None else min(cap, r.hi))


def network_strategy(caps=None):
    """A hypothesis strategy of :class:`RandomNetwork` (ranges from the contract, sizes capped
    by ``caps``, default :data:`SIZE_CAPS`). Draws shrink toward small, plain networks: one
    layer, few neurons, SRAM, no stalls."""
    from hypothesis import strategies as st

    caps = {**SIZE_CAPS, **(caps or {})}
    prob = st.one_of(st.just(1.0), st.sampled_from([0.25, 0.5, 0.75, 0.9]))

    def lif(draw, n_out):
        return LifSpec(n_out=n_out, lanes=draw(st.integers(1, n_out)), weight_bits=draw(st.sampled_from(WEIGHT_BITS)),
                       v_bits=draw(_int(st, "v_bits")), leak_shift=draw(_int(st, "leak_shift")),
                       reset=draw(st.sampled_from(RESETS)), refractory=draw(_int(st, "refractory")),
                       thresholds=draw(st.sampled_from(THRESHOLDS)), biases=draw(st.sampled_from(BIASES)))

    @st.composite
    def networks(draw):
        n_layers = draw(_int(st, "layers", caps["layers"]))
        output = draw(st.sampled_from(contract.LAYER_TYPES))
        decision = "first_to_spike" if output == "glm" else draw(st.sampled_from(DECISIONS))
        n_inputs = draw(_int(st, "n_inputs", caps["n_inputs"]))
        layers = [lif(draw, draw(_int(st, "n_out", caps["n_out"]))) for _ in range(n_layers - 1)]
        n_classes = draw(_int(st, "n_classes", caps["n_out"]))
        if output == "lif":
            layers.append(lif(draw, n_classes))
        else:
            tau = draw(_int(st, "tau"))
            layers.append(GlmSpec(n_out=n_classes, lanes=draw(st.integers(1, n_classes)),
                                  weight_bits=draw(st.sampled_from(WEIGHT_BITS)),
                                  k=draw(_int(st, "basis", tau)), tau=tau, basis_bits=draw(_int(st, "basis_bits")),
                                  u_bits=draw(_int(st, "u_bits", caps["u_bits"])),
                                  scale_bits=draw(_int(st, "scale_bits")),
                                  scale_shift=draw(_int(st, "scale_shift"))))
        memory = draw(st.sampled_from(["sram", "sttram"]))
        sttram = memory == "sttram"
        return RandomNetwork(
            seed=draw(st.integers(0, 2**20)), n_inputs=n_inputs, layers=tuple(layers), decision=decision,
            t_max=draw(_int(st, "t_max", caps["t_max"])), frames=draw(_int(st, "frames", caps["frames"])),
            encoder=draw(st.sampled_from(ENCODER_TYPES)),
            encoder_lanes=draw(st.integers(1, min(contract.MAX_ENCODER_LANES, n_inputs))),
            memory=memory,
            read_latency=draw(st.integers(1, caps["read_latency"])) if sttram else 1,
            write_latency=draw(st.integers(1, caps["write_latency"])) if sttram else 1,
            valid_prob=draw(prob), ready_prob=draw(prob), stall_seed=draw(st.integers(1, 2**32 - 1)),
            n_samples=draw(st.integers(1, caps["samples"])), density=draw(st.sampled_from([0.6, 0.2, 1.0])))

    return networks()
