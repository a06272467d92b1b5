"""Checks of the training, conversion and export settings (the one validator of sw/).

The contract's rules come from :mod:`spinaps.contract` (``check``, ``check_choice``,
``check_int``, ...); this module adds the few rules that are not the contract's (counts
such as ``epochs >= 1``, positive reals, flags) in the same message form, and
:func:`prefixed`, which puts the owner (``GlmTrainConfig.``, ``convert: ``) in front of any
of those messages::

    with prefixed("GlmTrainConfig."):
        check("t_max", self.t_max)
        at_least("epochs", self.epochs, 1)

raises ``ValueError("GlmTrainConfig.t_max = 300 is out of range 1..255 (time steps per
inference)")``.
"""

from __future__ import annotations

import math
import numbers
from contextlib import contextmanager

from spinaps.contract import is_int

__all__ = ["prefixed", "at_least", "real", "flag", "per_layer"]


@contextmanager
def prefixed(prefix: str):
    """Re-raise a check's error (a ``ValueError``) from the block with ``prefix`` in front."""
    try:
        yield
    except ValueError as e:
        raise ValueError(f"{prefix}{e}") from None


def at_least(name: str, value, lo: int):
    """An integer ``>= lo`` (a count: epochs, batch size, hidden neurons)."""
    if not is_int(value) or value < lo:
        raise ValueError(f"{name} = {value!r} must be an integer >= {lo}")
    return value


def real(name: str, value, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False):
    """A finite real number in the interval given by ``lo``/``hi`` (open ends with
    ``lo_open``/``hi_open``); ``None`` leaves that side unbounded."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value))
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    if not ok:
        left = "-inf" if lo is None else f"{lo:g}"
        right = "inf" if hi is None else f"{hi:g}"
        interval = f"{'(' if lo is None or lo_open else '['}{left}, {right}{')' if hi is None or hi_open else ']'}"
        raise ValueError(f"{name} = {value!r} must be a finite number in {interval}")
    return value


def flag(name: str, value):
    """A ``bool``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} = {value!r} must be True or False")
    return value


def per_layer(name: str, value, n: int, check=None) -> list:
    """``value`` as a list of ``n``: one value for every layer, or a list/tuple with one per
    layer (``None``: ``n`` times ``None``); each value that is not ``None`` passes
    ``check(field, v)`` (field ``name[i]`` for a per-layer list)."""
    if value is None:
        return [None] * n
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name} needs one value per layer ({n}), got {len(values)}")
    for i, v in enumerate(values):
        if v is not None and check is not None:
            check(f"{name}[{i}]" if isinstance(value, (list, tuple)) else name, v)
    return values
