"""Expected component outputs computed with the golden model (shared by the test tiers).

The Amaranth-simulator unit tests (``tests/hdl``) and the cocotb component tests
(``tests/cocotb/test_components.py``) check the same components against the same
expectations; they are defined once here, on top of :mod:`spinaps.sw.golden`.
"""

import numpy as np
import torch

from spinaps.sw import golden

__all__ = ["expected_encoder_events", "expected_first_to_spike"]


def expected_encoder_events(x_int, seed, base_seeds, tau, t_max):
    """Events of :class:`~spinaps.hdl.encoder.BernoulliEncoder` for one sample.

    Returns a list with, per step ``t = 1 .. t_max``, one ``(index, hist)`` tuple per active
    input in ascending index (``hist`` = the input's history, docs/semantics.md section 4),
    then the string ``"eos"``.
    """
    x = golden.encode_bernoulli(np.asarray(x_int)[None], np.array([seed]), base_seeds, t_max)
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
