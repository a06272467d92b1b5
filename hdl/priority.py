"""Lowest-set-bit selection in logarithmic depth, shared by the event emitters."""

from amaranth.hdl import Cat, Const, Mux, Signal

from .layouts import bits_for

__all__ = ["any_of", "lowest_one", "one_of"]


def any_of(terms):
    """OR of ``terms`` as a balanced tree (a 1-bit 0 when empty)."""
    terms = list(terms)
    if not terms:
        return Const(0, 1)
    while len(terms) > 1:
        terms = [terms[i] | terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def one_of(terms):
    """1 iff exactly one of ``terms`` (1-bit values) is set, as a balanced tree of
    (any, several) pairs (0 when empty)."""
    pairs = [(t, Const(0, 1)) for t in terms]
    if not pairs:
        return Const(0, 1)
    while len(pairs) > 1:
        nxt = []
        for i in range(0, len(pairs), 2):
            if i + 1 < len(pairs):
                (a, a2), (b, b2) = pairs[i], pairs[i + 1]
                nxt.append((a | b, a2 | b2 | (a & b)))
            else:
                nxt.append(pairs[i])
        pairs = nxt
    return pairs[0][0] & ~pairs[0][1]


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
