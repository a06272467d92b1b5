"""Differentiable estimate of the accelerator's energy per inference (hardware-aware training).

``E_hat`` counts what the cost model (docs/cost_model.md, ``spinaps.sim.cost``) charges per
inference and that training can change, from the spikes of one forward pass:

* **synapse reads**: layer ``l`` reads a row's ``Qn`` words once per window of ``W`` steps in
  which the row is non-zero in at least one step (docs/semantics.md 7 ``reads`` and 8.1,
  :func:`spinaps.contract.window_reads`); the OR over the window is relaxed to
  ``1 - prod_t (1 - a_t)``, exact when the activities ``a`` are 0 or 1. A word read costs
  ``P b`` cells of the synapse memory's read energy.
* **accumulates** (the synaptic operations): every (row, step) with a non-zero trace adds one
  word of ``P`` step sums (``Qn`` words per row): ``P acc_bits`` bits of adder and LUT-RAM
  read and write, as the cost model's ``accumulate`` term (``sops = spike count x fan-out``).
* **per-step work**: the neuron updates and the encoder, paid once per step run.

A LIF input's row activity is its spike; a GLM layer's row ``i*K + k`` is non-zero when any
lag ``l`` with ``A[k][l] > 0`` of its history holds a spike (section 4), relaxed the same way.
First-to-spike networks stop at the decision step: every term of step ``t`` is weighted by the
probability ``S_t`` that the run reaches ``t`` (``S_1 = 1``, ``S_t = prod_{t' < t} (1 - d_t')``,
``d_t`` the probability that step ``t`` decides: ``1 - prod_j (1 - y_j(t))`` for a LIF output,
``1 - prod_j (1 - sigmoid(u_j(t)))`` for the GLM output's Bernoulli draws). With binary spikes
the estimate's counts are exactly the golden model's counters (events, sops, decision step,
``reads`` of the window schedule): tests/sw/test_energy.py checks it.

Not estimated (they need the built design's flip-flops and area): clock energy and leakage.
Both scale with the cycles, which the reads of the busiest layer and the steps bound.

The coefficients are the device table's numbers (``sim/devices.json``, the same keys), read
here as plain data so that ``sw`` does not import ``sim``: :meth:`EnergyCoefficients.from_table`
takes a loaded table (a user's override merged by :func:`spinaps.sim.devices.load_devices`),
:func:`device_coefficients` reads the shipped file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import torch

from spinaps import contract

from .checks import at_least, real
from .lanes import DEFAULT_ENCODER_LANES

__all__ = ["EnergyCoefficients", "device_coefficients", "LayerGeometry", "EnergyEstimate", "row_activity",
           "survival", "estimate_energy", "PENALTIES", "check_energy_fields", "penalty_value"]

#: Penalties of the fine-tuning stage: the energy estimate, or plain L1 on firing rates (the ablation).
PENALTIES = ("energy", "l1")

# Device-table keys of each coefficient (sim/devices.json): (section, key); "memory" is the synapse memory.
_KEYS = {"read_pj_per_bit": ("memory", "read_energy_pj_per_bit"),
         "adder_pj_per_bit": ("logic", "adder_energy_pj_per_bit"),
         "lutram_read_pj_per_bit": ("logic", "lutram_read_energy_pj_per_bit"),
         "lutram_write_pj_per_bit": ("logic", "lutram_write_energy_pj_per_bit"),
         "lif_update_adds": ("logic", "lif_update_adds"),
         "glm_update_adds": ("logic", "glm_update_adds"),
         "draw_adds": ("logic", "draw_adds")}


@dataclass(frozen=True)
class EnergyCoefficients:
    """The device numbers ``E_hat`` uses (pJ per bit, adds per update), one synapse memory."""

    read_pj_per_bit: float
    adder_pj_per_bit: float
    lutram_read_pj_per_bit: float
    lutram_write_pj_per_bit: float
    lif_update_adds: float
    glm_update_adds: float
    draw_adds: float
    memory: str = "sram"

    @classmethod
    def from_table(cls, table, memory="sram", source="device table"):
        """The coefficients of a device table (the dict of ``sim/devices.json``'s format)."""
        values = {}
        for name, (section, key) in _KEYS.items():
            try:
                node = table["memories"][memory] if section == "memory" else table[section]
                values[name] = float(node[key]["value"])
            except (KeyError, TypeError, ValueError):
                where = f"memories.{memory}.{key}" if section == "memory" else f"{section}.{key}"
                raise ValueError(f"{source}: field '{where}' is missing or not a number; see "
                                 f"docs/cost_model.md for the table's fields") from None
        return cls(**values, memory=memory)

    @property
    def accumulate_pj_per_bit(self):
        """One bit of a read-add-write of the step sums: adder plus LUT-RAM read and write."""
        return self.adder_pj_per_bit + self.lutram_read_pj_per_bit + self.lutram_write_pj_per_bit


def device_coefficients(memory="sram"):
    """:class:`EnergyCoefficients` of the shipped device table (``sim/devices.json``)."""
    path = resources.files("spinaps.sim").joinpath("devices.json")
    return EnergyCoefficients.from_table(json.loads(path.read_text()), memory, source=str(path))


@dataclass(frozen=True)
class LayerGeometry:
    """What the estimate needs of one layer: its sizes, lanes, widths and (GLM) basis table."""

    kind: str
    n_in: int
    n_out: int
    lanes: int
    weight_bits: int
    acc_bits: int
    update_bits: int
    basis: np.ndarray | None = None      # GLM: the integer table A [K, tau]

    @classmethod
    def lif(cls, n_in, n_out, lanes, weight_bits, v_bits):
        return cls("lif", n_in, n_out, lanes, weight_bits, contract.accumulator_bits(n_in, weight_bits), v_bits)

    @classmethod
    def glm(cls, n_in, n_out, lanes, weight_bits, basis_int, basis_bits):
        basis = np.asarray(basis_int, dtype=np.int64)
        acc = contract.accumulator_bits(n_in, weight_bits, basis=basis.shape[0], tau=basis.shape[1],
                                        basis_bits=basis_bits)
        return cls("glm", n_in, n_out, lanes, weight_bits, acc, acc, basis)

    @property
    def words(self):
        return contract.words(self.n_out, self.lanes)

    def step_pj(self, c: EnergyCoefficients):
        """Neuron update of one step (cost model's ``neuron_update``; LIF state = potentials)."""
        if self.kind == "lif":
            adds, draws, state = c.lif_update_adds, 0.0, self.n_out * self.update_bits
        else:
            adds, draws, state = c.glm_update_adds, c.draw_adds * 32, 0
        return (self.n_out * (adds * self.update_bits + draws) * c.adder_pj_per_bit
                + self.words * self.lanes * self.acc_bits * c.lutram_read_pj_per_bit
                + state * (c.lutram_read_pj_per_bit + c.lutram_write_pj_per_bit))


def _or(p, dim):
    """Relaxed OR ``1 - prod (1 - p)`` along ``dim``: exact for 0/1."""
    return 1.0 - torch.prod(1.0 - p, dim=dim)


def row_activity(s, layer: LayerGeometry):
    """Probability that each synapse row is non-zero at each step, ``[B, T, rows]``.

    LIF: the input spike itself. GLM: row ``i*K + k`` is non-zero when a lag ``l`` with
    ``A[k][l] > 0`` of input ``i``'s history holds a spike (rows ordered ``i*K + k``).
    """
    if layer.kind == "lif":
        return s
    b, t, n = s.shape
    k, tau = layer.basis.shape
    lagged = torch.zeros(b, t, n, tau, dtype=s.dtype)
    for lag in range(min(tau, t)):
        lagged[:, lag:, :, lag] = s[:, : t - lag]
    rows = []
    for kk in range(k):
        lags = [lag for lag in range(tau) if layer.basis[kk, lag] > 0]
        rows.append(_or(lagged[..., lags], dim=-1) if lags else torch.zeros(b, t, n, dtype=s.dtype))
    return torch.stack(rows, dim=-1).reshape(b, t, n * k)


def _active(s, layer: LayerGeometry):
    """A layer's events: LIF spiking inputs; GLM inputs with a non-zero history (section 4)."""
    if layer.kind == "lif":
        return s
    tau = layer.basis.shape[1]
    t = s.shape[1]
    lagged = torch.stack([torch.nn.functional.pad(s[:, : t - lag], (0, 0, lag, 0)) for lag in range(min(tau, t))],
                         dim=-1)
    return _or(lagged, dim=-1)


def survival(decision, u=None, y=None, kind="lif", t_max=None):
    """``S [B, T]``: probability that the run reaches step ``t`` (1 for the fixed-length decisions).

    First-to-spike with a LIF output (spikes ``y``): ``d_t = 1 - prod_j (1 - y_j(t))``; with a
    GLM output (potentials ``u``): ``d_t = 1 - prod_j (1 - sigmoid(u_j(t)))``.
    """
    ref = u if u is not None else y
    if decision != "first_to_spike":
        return torch.ones(ref.shape[:2], dtype=ref.dtype)
    if kind == "glm":
        go_on = torch.exp(torch.nn.functional.logsigmoid(-u).sum(dim=-1))
    else:
        go_on = torch.prod(1.0 - y, dim=-1)
    s = torch.cumprod(go_on, dim=1)
    return torch.cat([torch.ones_like(s[:, :1]), s[:, :-1]], dim=1)


@dataclass
class EnergyEstimate:
    """Mean per inference over the batch: the estimate (pJ, a tensor with its graph) and its counts."""

    energy_pj: torch.Tensor
    reads: list            # per layer, word reads of the window schedule
    events: list
    sops: list
    steps: torch.Tensor
    breakdown_pj: dict


def estimate_energy(layer_inputs, layers, coefficients: EnergyCoefficients, *, window=1, steps_alive=None,
                    encoder_lanes=DEFAULT_ENCODER_LANES, encoder="bernoulli"):
    """``E_hat`` of one batch, mean per inference (see the module docstring).

    Parameters
    ----------
    layer_inputs : list of torch.Tensor
        Spikes entering each layer, ``[B, T, n_in_l]`` (0/1, or probabilities); entry 0 is
        the encoder's output, entry ``l`` layer ``l - 1``'s spikes.
    layers : list of LayerGeometry
        One per layer, input side first.
    coefficients : EnergyCoefficients
    window : int
        Window length ``W`` of the schedule the estimate targets (``contract.WINDOWS``).
    steps_alive : torch.Tensor or None
        ``S [B, T]`` from :func:`survival`; ``None``: every step runs.
    encoder_lanes, encoder : the encoder's generators and type (its per-step work).
    """
    contract.check_choice("window", window, contract.WINDOWS)
    if len(layer_inputs) != len(layers):
        raise ValueError(f"{len(layer_inputs)} layer inputs for {len(layers)} layers")
    b, t_max = layer_inputs[0].shape[:2]
    alive = torch.ones(b, t_max, dtype=layer_inputs[0].dtype) if steps_alive is None else steps_alive
    n_win = contract.ceil_div(t_max, window)
    c = coefficients
    reads, events, sops = [], [], []
    read_pj = accumulate_pj = 0.0
    for s, layer in zip(layer_inputs, layers):
        a = row_activity(s, layer) * alive[..., None]                       # rows x steps that run
        pad = torch.zeros(b, n_win * window - t_max, a.shape[-1], dtype=a.dtype)
        per_window = _or(torch.cat([a, pad], dim=1).reshape(b, n_win, window, -1), dim=2)
        r = per_window.sum(dim=(1, 2)) * layer.words                          # [B]
        nonzero_rows = a.sum(dim=(1, 2))
        reads.append(r.mean())
        sops.append((nonzero_rows * layer.n_out).mean())
        events.append((_active(s, layer) * alive[..., None]).sum(dim=(1, 2)).mean())
        read_pj = read_pj + r.mean() * layer.lanes * layer.weight_bits * c.read_pj_per_bit
        accumulate_pj = accumulate_pj + (nonzero_rows.mean() * layer.words * layer.lanes * layer.acc_bits
                                         * c.accumulate_pj_per_bit)
    n_in = layers[0].n_in
    draws = contract.groups(n_in, encoder_lanes) * encoder_lanes * c.draw_adds * 32 \
        if contract.encoder_draws(encoder) else 0.0
    encoder_step = (draws + n_in * 8) * c.adder_pj_per_bit
    steps = alive.sum(dim=1).mean()
    update_pj = steps * sum(layer.step_pj(c) for layer in layers)
    encoder_pj = steps * encoder_step
    total = read_pj + accumulate_pj + update_pj + encoder_pj
    return EnergyEstimate(energy_pj=total, reads=reads, events=events, sops=sops, steps=steps,
                          breakdown_pj={"synapse_read": read_pj, "accumulate": accumulate_pj,
                                        "neuron_update": update_pj, "encoder": encoder_pj})


def check_energy_fields(config):
    """Validate a training config's hardware-aware fields (``energy_beta``, ``energy_window``,
    ``energy_epochs``, ``energy_lr``, ``energy_penalty``); called inside its ``prefixed`` block."""
    real("energy_beta", config.energy_beta, lo=0)
    contract.check_choice("energy_window", config.energy_window, contract.WINDOWS)
    at_least("energy_epochs", config.energy_epochs, 0)
    real("energy_lr", config.energy_lr, lo=0, hi=1, lo_open=True)
    contract.check_choice("energy_penalty", config.energy_penalty, PENALTIES)
    if config.energy_beta > 0 and config.energy_epochs == 0:
        raise ValueError(f"energy_beta = {config.energy_beta!r} needs energy_epochs >= 1: the penalty "
                         f"applies in the fine-tuning stage after the task training")


def penalty_value(kind, estimate: EnergyEstimate, spikes):
    """The penalty of one batch before normalisation: ``E_hat`` (pJ) or, for ``"l1"``, the mean
    spike count per inference of ``spikes`` (the trainable layers' outputs)."""
    if kind == "energy":
        return estimate.energy_pj
    return sum(s.sum(dim=(1, 2)).mean() for s in spikes)
