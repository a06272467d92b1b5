"""The running argmax over the lanes of a neuron word, shared by the decision units."""

from amaranth.hdl import Mux, Signal

__all__ = ["lane_argmax"]


def lane_argmax(m, name, candidates, seen, best, index):
    """Chain ``candidates`` (``(ok, value, j)`` per lane, ascending ``j``) into a running best.

    A candidate replaces the best when it is ``ok`` and either nothing was seen yet or its
    value is strictly greater, so ties go to the lowest index (docs/semantics.md 6). Each
    lane's result is a named Signal: chaining bare Mux expressions would reuse every previous
    lane's expression twice and grow the netlist as 2**lanes.

    Returns the ``(seen, best, index)`` values after the last lane (combinational).
    """
    for lane, (ok, value, j) in enumerate(candidates):
        take = Signal(name=f"{name}_take{lane}")
        n_seen = Signal(name=f"{name}_seen{lane}")
        n_best = Signal(best.shape() if hasattr(best, "shape") else value.shape(), name=f"{name}_best{lane}")
        n_index = Signal(index.shape() if hasattr(index, "shape") else j.shape(), name=f"{name}_index{lane}")
        m.d.comb += [
            take.eq(ok & (~seen | (value > best))),
            n_seen.eq(seen | ok),
            n_best.eq(Mux(take, value, best)),
            n_index.eq(Mux(take, j, index)),
        ]
        seen, best, index = n_seen, n_best, n_index
    return seen, best, index
