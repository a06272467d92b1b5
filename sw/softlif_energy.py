"""Hardware-aware fine-tuning of a soft-LIF network (:mod:`spinaps.sw.softlif`): the energy
estimate of the converted spiking network from the ANN's rates.

The converted network (:mod:`spinaps.sw.softlif_convert`) fires a hidden neuron with rate
``r`` (Hz) about ``r * dt_l`` times per step, where the conversion maps the
``rate_percentile``-th percentile rate of layer ``l`` to ``max_rate`` spikes per step. The
estimate takes that per-step probability, ``p = min(1, r * dt_l)`` with ``dt_l`` fixed from
the first stage's network (the conversion's rule at its defaults, without rounding to a leak
shift), and the encoder's ``x / 255``, as independent Bernoulli spikes over one window of
``W`` steps and applies :func:`spinaps.sw.energy.estimate_energy` to them (reads of a window:
``1 - (1 - p)^W`` per input). A rate-coded run of ``T`` steps costs ``T / W`` such windows, so
``T`` cancels in ``E_hat / E_hat_0``. The output layer is the integrate-and-fire read-out:
its spikes feed nothing. ``"l1"``: the sum of the hidden layers' ``p`` (the ablation).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .energy import LayerGeometry, device_coefficients, estimate_energy
from .hwaware import fine_tune_loop
from .lanes import default_lanes

__all__ = ["fine_tune_softlif"]

# The conversion's defaults (softlif_convert.convert): percentile rate -> spikes per step.
_RATE_PERCENTILE, _MAX_RATE = 99.0, 0.5
# Widths the estimate assumes where the conversion decides them later (flow's default
# weight width; a potential width for the update energy, a constant term).
_WEIGHT_BITS, _V_BITS = 4, 16


def _hidden_rates(net, x):
    """Logits and every hidden soft-LIF layer's rates (Hz) of ``x``."""
    rates, a = [], x
    for m in net:
        a = m(a)
        if not isinstance(m, torch.nn.Linear):
            rates.append(a / m.config.amplitude)
    return a, rates


def _geometry(sizes, bits):
    return [LayerGeometry.lif(n_in, n_out, default_lanes(n_out), bits, _V_BITS)
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def fine_tune_softlif(net, x, y, config, generator, *, progress=True):
    """Fine-tune ``net`` (the trained soft-LIF ``nn.Sequential``) in place on input rates ``x``
    and labels ``y``; returns ``(penalty_0, mean penalty per epoch, loss per epoch)``."""
    with torch.no_grad():
        net.eval()
        _, rates = _hidden_rates(net, x)
        dt = [_MAX_RATE / max(float(np.percentile(r.numpy(), _RATE_PERCENTILE)), 1e-6) for r in rates]
    sizes = [net[0].in_features] + [m.out_features for m in net if isinstance(m, torch.nn.Linear)]
    layers = _geometry(sizes, config.weight_bits or _WEIGHT_BITS)
    coefficients = device_coefficients() if config.energy_penalty == "energy" else None
    window = config.energy_window

    def penalty(xb, rates_b):
        p = [torch.clamp(r * d, 0.0, 1.0) for r, d in zip(rates_b, dt)]
        if coefficients is None:
            return sum(q.sum(dim=1).mean() for q in p)
        steps = [q[:, None, :].expand(-1, window, -1) for q in [xb, *p]]
        return estimate_energy(steps, layers, coefficients, window=window).energy_pj

    with torch.no_grad():
        reference = float(penalty(x[:256], _hidden_rates(net, x[:256])[1]))
    net.train()

    def batch_terms(idx, with_penalty):
        logits, rates_b = _hidden_rates(net, x[idx])
        return F.cross_entropy(logits, y[idx]), penalty(x[idx], rates_b) if with_penalty else None

    quantized = [m for m in net if getattr(m, "bits", None) is not None]
    history, spent = fine_tune_loop(net, config, len(x), generator, batch_terms, reference, desc="soft-LIF energy",
                                    progress=progress, weight_decay=config.weight_decay,
                                    before_epoch=lambda: [m.refresh_scale() for m in quantized])
    net.eval()
    return reference, spent, history
