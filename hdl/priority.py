"""Lowest-set-bit selection and bit counts in logarithmic depth, shared by the event emitters."""

from itertools import combinations

from amaranth.hdl import Cat, Const, Mux, Signal

from .layouts import bits_for
from .synth_hints import KEEP

__all__ = ["any_of", "count_is", "lowest_one", "lowest_select"]


def any_of(terms):
    """OR of ``terms`` as a balanced tree (a 1-bit 0 when empty)."""
    terms = list(terms)
    if not terms:
        return Const(0, 1)
    while len(terms) > 1:
        terms = [terms[i] | terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def count_is(m, terms, count, *, leaf=4, name):
    """1 iff exactly ``count`` (0, 1 or 2) of ``terms`` (1-bit values) are set.

    A tree of counts saturated at 3 (2 bits), each node a signal Yosys keeps (``keep``) and
    written as AND/OR logic (an adder would become a carry chain): a leaf counts ``leaf``
    terms (4 plain bits, or 2 terms that are each an OR of two bits: one LUT4 per count
    bit), a node adds two counts (4 inputs per bit) and the root compares the sum of its two
    children with ``count`` directly. So ``ceil(log2(leaves)) + 1`` LUT levels for more than
    one leaf (8 bits: 2), and ABC9 cannot deepen the tree into a chain."""
    if count not in (0, 1, 2):
        raise ValueError(f"count_is: count = {count}, need 0, 1 or 2")
    terms = list(terms)

    def kept(value, label):
        sig = Signal(len(value), name=f"{name}_{label}", attrs=KEEP)
        m.d.comb += sig.eq(value)
        return sig

    def at_least(group, k):
        """1 iff at least ``k`` of ``group`` are set (k >= 1), as an OR of ANDs."""
        return any_of([Cat(*c).all() for c in combinations(group, k)])

    def add(a, b):
        """(>= 1, >= 2, >= 3) of the sum of two saturated counts."""
        a1, a2, a3 = a[0] | a[1], a[1], a[0] & a[1]
        b1, b2, b3 = b[0] | b[1], b[1], b[0] & b[1]
        return a1 | b1, a2 | b2 | (a1 & b1), a3 | b3 | (a2 & b1) | (a1 & b2)

    def encode(ge1, ge2, ge3):
        return Cat(ge1 & ~ge2 | ge3, ge2)

    def equals(ge1, ge2, ge3):
        return [~ge1, ge1 & ~ge2, ge2 & ~ge3][count]

    groups = [terms[i:i + leaf] for i in range(0, len(terms), leaf)]
    if len(groups) <= 1:
        group = groups[0] if groups else []
        return equals(*(at_least(group, k) for k in (1, 2, 3)))
    level = [kept(encode(*(at_least(g, k) for k in (1, 2, 3))), f"count{i}") for i, g in enumerate(groups)]
    depth = 0
    while len(level) > 2:
        depth += 1
        level = [kept(encode(*add(level[i], level[i + 1])), f"count{depth}_{i // 2}") if i + 1 < len(level)
                 else level[i] for i in range(0, len(level), 2)]
    return kept(equals(*add(level[0], level[1])), "is")


def lowest_one(m, bits, payloads, *, name):
    """The lowest set bit of ``bits`` (a list of 1-bit values) as ``(one_hot, index, payload)``.

    ``one_hot`` is ``bits & -bits`` (a carry chain on an FPGA); ``index`` and the selected
    entry of ``payloads`` (equal-width values, one per bit) are OR trees over it. An
    if-chain over the bits would instead be a priority multiplexer as deep as the vector.
    All three are 0 when no bit is set.
    """
    n = len(bits)
    vec = Signal(n, name=f"{name}_bits")
    m.d.comb += vec.eq(Cat(*bits))
    one_hot = Signal(n, name=f"{name}_first")
    m.d.comb += one_hot.eq(vec & (~vec + 1))
    index = Signal(bits_for(n), name=f"{name}_index")
    m.d.comb += index.eq(Cat(*[any_of([one_hot[j] for j in range(n) if (j >> b) & 1]) for b in range(len(index))]))
    width = len(payloads[0]) if payloads else 1
    payload = Signal(width, name=f"{name}_payload")
    m.d.comb += payload.eq(any_of([Mux(one_hot[j], payloads[j], 0) for j in range(n)]))
    return one_hot, index, payload


def lowest_select(m, bits, payloads, *, name):
    """``(index, payload, rest)`` of the lowest set bit of ``bits`` (1-bit values): its index
    and entry of ``payloads`` as :func:`lowest_one`'s (both 0 when no bit is set), and
    ``bits`` with that bit cleared, as a tree of 2:1 selects from the bits (no carry chain,
    no one-hot): ``ceil(log2(len(bits)))`` levels, each a function of at most 4 inputs per
    output bit, for paths that must be short from the bits' registers (the encoder's event
    output register and mask). A bit stays in ``rest`` iff a lower one is set: an OR of the
    ``any`` of the tree's nodes left of its path.

    Each node is a signal Yosys keeps (``keep``), so that its LUT mapping follows the tree:
    otherwise ABC9, which counts no routing, trades the tree for a chain of LUTs through
    their fastest input, or builds it on a carry chain (seen: 5-6 LUT levels for 8 bits on
    the iCE40)."""
    rest = [None] * len(bits)

    def kept(value, label):
        sig = Signal(len(value), name=f"{name}_{label}", attrs=KEEP)
        m.d.comb += sig.eq(value)
        return sig

    def node(lo, hi, lower):
        if hi - lo == 1:
            rest[lo] = bits[lo] & any_of(lower)
            return bits[lo], Const(0, 0), Mux(bits[lo], payloads[lo], 0)
        half = 1 << ((hi - lo - 1).bit_length() - 1)     # the largest power of two below the size
        a_any, a_idx, a_val = node(lo, lo + half, lower)
        b_any, b_idx, b_val = node(lo + half, hi, lower + [a_any])
        lg = (half - 1).bit_length()
        idx = Cat(Mux(a_any, a_idx, b_idx)[:lg] if lg else Const(0, 0), ~a_any & b_any)
        label = f"{lo}_{hi}"
        return (kept(a_any | b_any, f"any{label}"), kept(idx, f"index{label}"),
                kept(Mux(a_any, a_val, b_val), f"value{label}"))
    if not bits:
        raise ValueError("lowest_select needs at least one bit")
    _, index, payload = node(0, len(bits), [])
    return index, payload, Cat(*rest)
