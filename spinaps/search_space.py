"""The search space of ``spinaps search`` (docs/search.md): three tiers of parameters.

* **training tier** (Optuna's NSGA-II samples these, one trial each): the network type, hidden
  size, weight widths per layer, ``K`` (``n_basis``), ``tau``, ``t_max``, the hardware-aware
  fine-tuning's ``energy_beta`` (hybrid); each point trains a network;
* **value tier** (enumerated inside each trial, no retraining): layer lanes and encoder lanes,
  which change which generator draws for which neuron, so each combination is a golden-model
  re-run on the test split;
* **schedule tier** (enumerated inside each trial, re-costed from one golden activity trace by
  sim/schedule.py's ``schedule_cost``): the synapse memory kind, window length ``W`` and
  temporal adders ``A`` per layer (:func:`schedule_variants`).

A space is plain data (dicts of tuples), so that it hashes into the result cache and travels
to Dask workers. Every value is checked by the contract (spinaps.contract) through the
trainers' config classes; this module only checks the space's own shape.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

from spinaps import contract

__all__ = ["SearchSpace", "PRESETS", "preset", "train_options", "hw_grid", "schedule_variants", "NETWORKS"]

#: Networks the training tier may choose (spinaps.api.train's names).
NETWORKS = ("glm", "hybrid")


@dataclass(frozen=True)
class SearchSpace:
    """Choices per tier. ``train``: parameter -> choices (``network``, ``hidden``,
    ``weight_bits``, ``weight_bits_out``, ``n_basis``, ``tau``, ``t_max``, ``energy_beta``: the
    hardware-aware fine-tuning's weight, 0 for none); parameters that only a hybrid network
    has are suggested only when ``network`` is ``hybrid`` (and ``fixed``'s ``energy_*``
    options go to hybrid trials only).
    ``fixed``: training options every trial uses (``epochs``, ``lr``...). ``lanes_hidden`` /
    ``lanes_out``: accumulator-lane choices of the hidden and output layers (clipped to the
    layer's size); ``encoder_lanes``: generator choices; ``memories``: synapse memory kinds;
    ``windows`` / ``adders``: window lengths and temporal adders each layer may take (an
    adder count above a window is skipped for it)."""

    dataset: str
    train: dict
    fixed: dict = field(default_factory=dict)
    lanes_hidden: tuple = (4, 8, 16)
    lanes_out: tuple = (2, 5, 10)
    encoder_lanes: tuple = (4, 8, 16)
    memories: tuple = ("sram", "sttram")
    windows: tuple = (1, 2, 4)
    adders: tuple = (1, 2)

    def __post_init__(self):
        from spinaps.sim.devices import MEMORIES

        for name in ("lanes_hidden", "lanes_out", "encoder_lanes"):
            values = getattr(self, name)
            if not values or any(not contract.is_int(v) or v < 1 for v in values):
                raise ValueError(f"search space {name} = {values!r}: give one or more whole numbers >= 1")
        for m in self.memories:
            contract.check_choice("search space memories", m, MEMORIES)
        for w in self.windows:
            contract.check_choice("search space windows", w, contract.WINDOWS)
        # The FPGA design (what is synthesized, simulated and placed) is SRAM, W = 1.
        if "sram" not in self.memories or 1 not in self.windows:
            raise ValueError("search space: memories must include 'sram' and windows 1 (the FPGA build's "
                             "schedule, which the search synthesizes and confirms)")
        if not self.adders or any(not contract.is_int(a) or a < 1 for a in self.adders) or 1 not in self.adders:
            raise ValueError(f"search space adders = {self.adders!r}: give whole numbers >= 1, 1 among them")
        for key, choices in self.train.items():
            if key not in _TRAIN_KEYS:
                raise ValueError(f"search space train.{key}: unknown parameter; known: {', '.join(_TRAIN_KEYS)}")
            if not isinstance(choices, (tuple, list)) or not choices:
                raise ValueError(f"search space train.{key} = {choices!r}: give a list of one or more choices")
        for n in self.train.get("network", ("glm",)):
            contract.check_choice("search space train.network", n, NETWORKS)

    def as_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


_TRAIN_KEYS = ("network", "hidden", "weight_bits", "weight_bits_out", "n_basis", "tau", "t_max", "energy_beta")
_HYBRID_ONLY = ("hidden", "weight_bits_out", "energy_beta")
# Fixed options of the hardware-aware fine-tuning (sw/lif.py's LifNetConfig): a GLM network
# has no such stage, so they go to hybrid trials only.
_HYBRID_ONLY_FIXED = ("energy_window", "energy_epochs", "energy_penalty", "energy_lr")

# Presets: the issue's targets. digits trains the trainers' own 60 epochs, so the hand-sized
# default (GlmTrainConfig's defaults: glm w4 K2 tau8 T16, 60 epochs; sw/lanes.py's lanes) is a
# point of the space; mnist5k's epochs are cut where the search would otherwise spend hours
# (docs/search.md says how to change them).
PRESETS = {
    "digits": SearchSpace("digits", train={"network": ("glm", "hybrid"), "hidden": (16, 32, 64),
                                           "weight_bits": (2, 4), "weight_bits_out": (2, 4), "n_basis": (1, 2),
                                           "tau": (4, 8), "t_max": (8, 16)},
                          fixed={"epochs": 60}, windows=(1, 4), adders=(1, 2)),
    # mnist5k: the hardware-aware fine-tuning (beta > 0: its estimate includes the expected
    # decision step) and one-word rows on the hidden layer (128 lanes) are what brings a hybrid
    # under 5 us on the ECP5 (bench/mnist5k_fast.py measured one such design by hand).
    "mnist5k": SearchSpace("mnist5k", train={"network": ("glm", "hybrid"), "hidden": (64, 128),
                                             "weight_bits": (2, 4), "weight_bits_out": (2, 4), "n_basis": (1, 2),
                                             "tau": (4, 8), "t_max": (8, 16), "energy_beta": (0.0, 0.3, 1.0)},
                           fixed={"epochs": 20, "energy_window": 4, "energy_epochs": 10},
                           lanes_hidden=(16, 32, 128), lanes_out=(5, 10), encoder_lanes=(16, 32, 64),
                           adders=(1, 2, 4)),
    # mnist5k for the UP5K: the mnist5k space above is sized for the ECP5 (its smallest design,
    # a GLM with 16 generators and 5 lanes, packs into 5,911 of the 5,280 cells; every hybrid's
    # synapses exceed the 120 kbit of block RAM), so this one has narrow hardware and hybrids
    # of 16 or 32 hidden neurons with 1- or 2-bit weights.
    "mnist5k_up5k": SearchSpace("mnist5k", train={"network": ("glm", "hybrid"), "hidden": (16, 32),
                                                  "weight_bits": (1, 2, 4), "weight_bits_out": (2, 4),
                                                  "n_basis": (1, 2), "tau": (4, 8), "t_max": (8, 16)},
                                fixed={"epochs": 20}, lanes_hidden=(4, 8, 16), lanes_out=(2, 5),
                                encoder_lanes=(4, 8), memories=("sram",), windows=(1,), adders=(1,)),
    # For tests and a first look: a few epochs (about 0.9 on digits), few combinations.
    "tiny": SearchSpace("digits", train={"network": ("glm",), "weight_bits": (2, 4), "n_basis": (1, 2),
                                         "tau": (4,), "t_max": (8,)},
                        fixed={"epochs": 6, "eval_repeats": 1, "ann_baseline": False},
                        lanes_out=(2, 5), encoder_lanes=(8,), memories=("sram",), windows=(1, 2), adders=(1,)),
}


def preset(name):
    """The :class:`SearchSpace` called ``name``; a ``ValueError`` naming the presets otherwise."""
    if name not in PRESETS:
        raise ValueError(f"search space {name!r} is not one of {', '.join(PRESETS)}")
    return PRESETS[name]


def suggest(trial, space):
    """The training-tier parameters of an Optuna trial (define-by-run: hybrid-only parameters
    only for a hybrid)."""
    params = {}
    for key in _TRAIN_KEYS:
        if key not in space.train:
            continue
        if key in _HYBRID_ONLY and params.get("network", "glm") != "hybrid":
            continue
        params[key] = trial.suggest_categorical(key, list(space.train[key]))
    params.setdefault("network", "glm")
    return params


def train_options(params, fixed, seed):
    """``(network, config keyword arguments)`` of one training-tier point, as spinaps.api.train
    takes them (``hidden``: one hidden layer; ``weight_bits``: hidden then output for a hybrid)."""
    p = dict(params)
    network = p.pop("network", "glm")
    out_bits = p.pop("weight_bits_out", None)
    hidden = p.pop("hidden", None)
    if network != "hybrid":
        fixed = {k: v for k, v in fixed.items() if k not in _HYBRID_ONLY_FIXED}
    config = {**fixed, **p, "seed": seed}
    if network == "hybrid":
        config["hidden"] = (int(hidden or 64),)
        wb = config.get("weight_bits", 4)
        config["weight_bits"] = (wb, out_bits or wb)
    return network, config


def hw_grid(space, sizes, n_inputs):
    """Every value-tier combination for a network of layer sizes ``sizes`` (``n_out`` per
    layer, input side first): ``{"encoder_lanes": e, "lanes": [per layer]}``, duplicates
    (after clipping to each layer's size) removed, in a fixed order."""
    per_layer = [sorted({min(lanes, n) for lanes in (space.lanes_out if i == len(sizes) - 1 else space.lanes_hidden)})
                 for i, n in enumerate(sizes)]
    enc = sorted({min(e, n_inputs, contract.MAX_ENCODER_LANES) for e in space.encoder_lanes})
    return [{"encoder_lanes": e, "lanes": list(lanes)} for e in enc for lanes in itertools.product(*per_layer)]


def schedule_variants(space, n_layers):
    """Schedule-tier variants, each re-costed from one golden activity trace without changing
    a value: ``{"memory": m, "schedule": [[W, A], ...per layer]}``, every memory kind times every
    per-layer combination of a window of ``space.windows`` and adders of ``space.adders``
    (``A <= W``). The time-sequential engine (``W = 1``) comes first."""
    per_layer = [(w, a) for w in sorted(space.windows) for a in sorted(space.adders) if a <= w]
    return [{"memory": m, "schedule": [list(x) for x in combo]}
            for m in space.memories for combo in itertools.product(per_layer, repeat=n_layers)]
