"""The argmax over the lanes of a neuron word, shared by the decision units."""

from amaranth.hdl import Mux, Signal

__all__ = ["lane_argmax"]


def lane_argmax(m, name, candidates, seen, best, index):
    """Fold ``candidates`` (``(ok, value, j)`` per lane, ascending ``j``) into a running best.

    A candidate replaces the best when it is ``ok`` and either nothing was seen yet or its
    value is strictly greater, so ties go to the lowest index (docs/semantics.md 6). The lanes
    are reduced as a balanced tree (the rule is associative when the left operand holds the
    lower indices), so the logic depth grows with log2(lanes), not with lanes; the running
    best (earlier words, lower indices) is the left operand of the last merge. Every merge
    result is a named Signal, so no expression is duplicated.

    Returns the ``(seen, best, index)`` values after the last lane (combinational).
    """
    vshape = best.shape() if hasattr(best, "shape") else candidates[0][1].shape()
    ishape = index.shape() if hasattr(index, "shape") else candidates[0][2].shape()
    count = 0

    def merge(left, right):
        nonlocal count
        (l_ok, l_val, l_j), (r_ok, r_val, r_j) = left, right
        take = Signal(name=f"{name}_take{count}")
        ok, val, j = (Signal(name=f"{name}_ok{count}"), Signal(vshape, name=f"{name}_best{count}"),
                      Signal(ishape, name=f"{name}_index{count}"))
        count += 1
        m.d.comb += [
            take.eq(r_ok & (~l_ok | (r_val > l_val))),
            ok.eq(l_ok | r_ok),
            val.eq(Mux(take, r_val, l_val)),
            j.eq(Mux(take, r_j, l_j)),
        ]
        return ok, val, j

    level = list(candidates)
    while len(level) > 1:
        nxt = [merge(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = nxt + ([level[-1]] if len(level) % 2 else [])
    return merge((seen, best, index), level[0])
