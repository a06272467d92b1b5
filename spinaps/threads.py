"""How many threads torch uses for training and the golden model, chosen for the machine's load.

Torch's default (one thread per core) is fast on an idle machine and 3-15x slower than one
thread on a busy one, where its threads wait for each other's cores. :func:`choose_threads`
takes one thread when the 1-minute load average leaves less than half a core free and
``min(cores, 4)`` otherwise; ``--threads N`` or the environment variable ``SPINAPS_THREADS``
override it. :func:`use_threads` applies the choice and returns the line the CLI prints.
"""

from __future__ import annotations

import os

__all__ = ["ENV", "MAX_AUTO_THREADS", "choose_threads", "use_threads"]

#: Environment variable that overrides the automatic choice.
ENV = "SPINAPS_THREADS"
#: The automatic choice never exceeds this: the golden model and the small networks here
#: gain little beyond four threads.
MAX_AUTO_THREADS = 4


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _parse(value, source: str) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{source} = {value!r}: give a whole number of threads >= 1 "
                         f"(or leave it unset for the automatic choice)")
    return n


def choose_threads(requested=None, *, cores: int | None = None, load: float | None = None,
                   env: dict | None = None, field: str = "--threads") -> tuple[int, str]:
    """``(threads, reason)``: ``requested`` (``--threads``) if given, else ``$SPINAPS_THREADS``,
    else 1 when ``load >= cores - 0.5``, else ``min(cores, MAX_AUTO_THREADS)``.

    ``cores``, ``load`` and ``env`` default to the machine's (given here for tests); ``field``
    names ``requested`` in an error (the API's ``threads``).
    """
    env = os.environ if env is None else env
    cores = _cores() if cores is None else cores
    load = _load() if load is None else load
    machine = f"load {load:.1f} on {cores} cores" if load is not None else f"{cores} cores"
    if requested is not None:
        return _parse(requested, field), field
    if env.get(ENV, "").strip():
        return _parse(env[ENV], ENV), ENV
    if load is not None and load >= cores - 0.5:
        return 1, machine
    return max(1, min(cores, MAX_AUTO_THREADS)), machine


def use_threads(requested=None) -> str:
    """Set torch's intra-op threads from :func:`choose_threads`; return what was chosen and why."""
    import torch

    n, why = choose_threads(requested)
    torch.set_num_threads(n)
    hint = "" if why == "--threads" else "; --threads N to change"
    return f"torch threads: {n} ({why}{hint})"
