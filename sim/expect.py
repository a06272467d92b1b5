"""Expected component outputs computed with the golden model (shared by the test tiers).

The Amaranth-simulator unit tests (``tests/hdl``) and the cocotb component tests
(``tests/cocotb/test_components.py``) check the same components against the same
expectations; they are defined once here, on top of :mod:`spinaps.sw.golden`.
"""

import numpy as np
import torch

from spinaps.contract import window_of_step, window_reads, words
from spinaps.sw import golden

__all__ = ["expected_encoder_events", "expected_first_to_spike", "lif_events", "expected_lif_words",
           "layer_nonzero", "expected_reads", "expected_window_events"]


def expected_encoder_events(x_int, seed, base_seeds, tau, t_max, frames=1):
    """Events of the encoder for one sample: :class:`~spinaps.hdl.encoder.BernoulliEncoder`,
    or :class:`~spinaps.hdl.deterministic_encoder.DeterministicEncoder` when ``base_seeds``
    is ``None`` (it draws nothing, so ``seed`` changes nothing).

    Returns a list with, per step ``t = 1 .. t_max``, one ``(index, hist)`` tuple per active
    input in ascending index (``hist`` = the input's history, docs/semantics.md section 4),
    then the string ``"eos"``.
    """
    if base_seeds is None:
        x = golden.encode_deterministic(np.asarray(x_int)[None], t_max, frames)
    else:
        x = golden.encode_bernoulli(np.asarray(x_int)[None], np.array([seed]), base_seeds, t_max, frames)
    h = golden.histories(x, tau)[0]
    out = []
    for t in range(t_max):
        out += [(i, int(h[t, i])) for i in torch.nonzero(h[t]).flatten().tolist()]
        out.append("eos")
    return out


def expected_first_to_spike(u, y):
    """Decision (docs/semantics.md section 6) of each run in a batch of potentials and spikes.

    ``u`` (ints) and ``y`` (bools) have shape ``[B, T_max, N_out]``. Returns one dict per run
    with ``cls``, ``step`` (1-based) and ``decided`` (0: no output spike by ``T_max``), from
    :func:`spinaps.sw.golden.first_to_spike`.
    """
    u = torch.as_tensor(np.asarray(u, dtype=np.int64))
    y = torch.as_tensor(np.asarray(y, dtype=bool))
    cls, step, decided = golden.first_to_spike(u, y)
    return [dict(cls=int(c), step=int(s), decided=int(d))
            for c, s, d in zip(cls.tolist(), step.tolist(), decided.tolist())]


def lif_events(spikes):
    """A LIF layer's input events for spikes ``[T, N_in]`` (bool): per step the spiking inputs
    in ascending index as ``(index, 1)``, then ``"eos"`` (the encoder's format with tau = 1)."""
    out = []
    for row in np.asarray(spikes, dtype=bool):
        out += [(int(i), 1) for i in np.flatnonzero(row)]
        out.append("eos")
    return out


def expected_lif_words(spikes, params):
    """Neuron words of :class:`~spinaps.hdl.lif_layer.LifLayer` for spikes ``[T, N_in]``.

    One dict per (step, word) in order: ``step`` (1-based), ``word``, ``spikes`` (bit ``p``
    = neuron ``word*lanes + p``) and ``u`` (the lanes' potentials before reset, padding lanes
    omitted), from :func:`spinaps.sw.golden.lif_layer`.
    """
    s = torch.as_tensor(np.asarray(spikes, dtype=bool))[None]
    u, y = golden.lif_layer(s, params)
    u, y = u[0].numpy(), y[0].numpy()
    lanes, n_out = params.lanes, params.n_out
    out = []
    for t in range(u.shape[0]):
        for q in range(words(n_out, lanes)):
            js = [j for j in range(q * lanes, (q + 1) * lanes) if j < n_out]
            out.append(dict(step=t + 1, word=q, spikes=sum(int(y[t, j]) << (j - q * lanes) for j in js),
                            u=[int(u[t, j]) for j in js]))
    return out


def layer_nonzero(model, xs, seeds):
    """Per layer, ``c_ik(t) != 0`` as bool ``[B, T, N_in, K]`` for every step ``1..T_max``
    (the golden model zeroes its spikes after the decision step; a window engine has already
    read the rest of the decision step's window, so the reads counter needs them all).

    Built from the golden model's public functions: the encoder's spikes, then each LIF
    layer's spikes as the next layer's input (a GLM layer is always the last one: its own
    spikes feed nothing).
    """
    xs = np.asarray(xs)
    if xs.ndim == 3:
        xs = xs.reshape(len(xs), -1)
    s = golden.encode(model.encoder_type, xs, np.asarray(seeds), model.encoder_base_seeds, model.t_max,
                      model.frames)
    out = []
    for lp in model.layers:
        if lp.kind == "lif":
            out.append(s.numpy().astype(bool)[..., None])
            _, s = golden.lif_layer(s, lp)
        else:
            c, _ = golden.traces(s, lp.basis)
            out.append((c != 0).numpy())
    return out


def expected_reads(model, xs, seeds, windows=1, steps=None):
    """The ``reads`` counter of each layer (docs/semantics.md 7) for window lengths ``windows``
    (an int, or one per layer): ``int64 [B, L]``, each the windows holding steps ``1..step``
    of :func:`spinaps.contract.window_reads`. ``steps``: the decision steps (default: the
    golden model's)."""
    if steps is None:
        steps = model.run(np.asarray(xs), np.asarray(seeds)).step
    windows = list(windows) if isinstance(windows, (list, tuple)) else [windows] * len(model.layers)
    out = np.zeros((len(steps), len(model.layers)), dtype=np.int64)
    for index, (nz, lp, w) in enumerate(zip(layer_nonzero(model, xs, seeds), model.layers, windows, strict=True)):
        qn = words(lp.n_out, lp.lanes)
        for b, step in enumerate(steps):
            out[b, index] = window_reads(nz[b], qn, w)[:int(window_of_step(int(step), w)) + 1].sum()
    return out


def expected_window_events(spikes, window, tau=1):
    """Window events (docs/semantics.md 8.1) for spikes ``[T, N]`` (bool): per window, one
    ``(index, hist)`` per input active in it, ascending, then ``"eos"``. ``hist`` has
    ``window + tau - 1`` bits: bit ``l`` is the spike ``l`` steps before the window's last
    step (missing steps of a short last window are 0)."""
    x = np.asarray(spikes, dtype=bool)
    t_max, n = x.shape
    out = []
    for start in range(0, t_max, window):
        last = start + window - 1
        hists = []
        for i in range(n):
            h = 0
            for lag in range(window + tau - 1):
                t = last - lag
                if 0 <= t < t_max and x[t, i]:
                    h |= 1 << lag
            hists.append(h)
        out += [(i, h) for i, h in enumerate(hists) if h]
        out.append("eos")
    return out
