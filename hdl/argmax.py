"""The argmax over the lanes of a neuron word, shared by the decision units."""

from amaranth.hdl import Mux, Signal

__all__ = ["lane_argmax", "pipelined_lane_argmax", "replaces", "greater"]


def greater(a, b):
    """``a > b`` as the sign of ``b - a`` (one bit wider): a subtraction becomes a carry chain
    on an FPGA, where abc9 mapped the compare itself to a chain of LUTs, one per two bits (a
    48 MHz critical path of the UP5K's decision unit)."""
    return (b - a)[-1]


def _merger(m, name, vshape, ishape):
    """``merge(left, right)``: the better of two ``(ok, value, j)``; ``left`` holds the lower
    indices, so only a strictly greater right value wins (ties to the lowest index)."""
    count = 0

    def merge(left, right):
        nonlocal count
        (l_ok, l_val, l_j), (r_ok, r_val, r_j) = left, right
        take = Signal(name=f"{name}_take{count}")
        ok, val, j = (Signal(name=f"{name}_ok{count}"), Signal(vshape, name=f"{name}_best{count}"),
                      Signal(ishape, name=f"{name}_index{count}"))
        count += 1
        m.d.comb += [
            take.eq(r_ok & (~l_ok | greater(r_val, l_val))),
            ok.eq(l_ok | r_ok),
            val.eq(Mux(take, r_val, l_val)),
            j.eq(Mux(take, r_j, l_j)),
        ]
        return ok, val, j

    return merge


def _shape(x):
    return x.shape() if hasattr(x, "shape") else None


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
    merge = _merger(m, name, _shape(best) or candidates[0][1].shape(), _shape(index) or candidates[0][2].shape())
    level = list(candidates)
    while len(level) > 1:
        nxt = [merge(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = nxt + ([level[-1]] if len(level) % 2 else [])
    return merge((seen, best, index), level[0])


def pipelined_lane_argmax(m, name, candidates, vshape, ishape, *, levels_per_stage=2):
    """The best of ``candidates`` alone (same rule and tree as :func:`lane_argmax`), with a
    register after every ``levels_per_stage`` tree levels and at the end.

    Returns ``((ok, value, j), stages)``: registered results, valid ``stages`` cycles after
    the candidates (at least 1). The registers have no reset: the caller tracks validity.
    """
    merge = _merger(m, name, vshape, ishape)
    level, depth, stages = list(candidates), 0, 0

    def register(entries):
        # Reset-less: the caller tracks which stage holds a valid word, and a reset OR'ed into
        # every bit cost a LUT and a long routed set/reset net on the merge path (UP5K, nextpnr).
        out = []
        for e, (ok, val, j) in enumerate(entries):
            r = (Signal(name=f"{name}_s{stages}_ok{e}", reset_less=True),
                 Signal(vshape, name=f"{name}_s{stages}_best{e}", reset_less=True),
                 Signal(ishape, name=f"{name}_s{stages}_index{e}", reset_less=True))
            m.d.sync += [r[0].eq(ok), r[1].eq(val), r[2].eq(j)]
            out.append(r)
        return out

    while len(level) > 1:
        nxt = [merge(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = nxt + ([level[-1]] if len(level) % 2 else [])
        depth += 1
        if depth % levels_per_stage == 0 and len(level) > 1:
            level = register(level)
            stages += 1
    level = register(level)
    return level[0], stages + 1


def replaces(m, name, candidate, first, seen, best):
    """1 when ``candidate`` (``(ok, value)``, higher indices) replaces a running best
    ``(seen, best)`` held in registers; ``first`` starts a new fold (the running best counts
    as empty; with ``seen`` None it is never empty otherwise). Same rule as
    :func:`lane_argmax`, but the compare is between the registers themselves (no multiplexer
    before it), and the result is meant to enable the running best's registers, loaded with
    the candidate as it is (no multiplexer after it either).
    """
    ok, value = candidate
    take = Signal(name=f"{name}_take")
    empty = first if seen is None else first | ~seen
    m.d.comb += take.eq(ok & (empty | greater(value, best)))
    return take
