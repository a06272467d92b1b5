"""A layer's activity counters, kept per step so the top reports exactly steps 1..step
(docs/semantics.md 7 and 8.1)."""

from amaranth.hdl import Cat, Signal

__all__ = ["LayerCounters", "COUNTER_BITS"]

#: Width of every counter (as the result record's fields).
COUNTER_BITS = 32


class LayerCounters:
    """The counters of one layer with window length ``window`` (1: time-sequential).

    Events are counted into per-slot accumulators of the window being accumulated (``add``);
    at the end-of-window beat (``commit``) the cumulative counts through each of its steps go
    into a ring of ``depth`` entries indexed by ``(step - 1) % depth`` (``depth`` a power of
    two, a multiple of ``window``, covering how far the layer may run ahead of the decision
    unit). ``reads`` counts whole windows (section 7), so every step of a window gets the
    reads through the window's end. ``report(step)`` gives the counts through ``step`` and
    the work done beyond it (discarded, speculative).

    Not storage in the cost model's sense (``storage`` dicts leave counters out).
    """

    FIELDS = ("events", "sops", "reads")

    def __init__(self, m, *, window, depth, name="count"):
        if depth % window or depth & (depth - 1):
            raise ValueError(f"counter ring depth {depth} must be a power of two and a multiple of the window {window}")
        self.m, self.window, self.depth = m, window, depth
        B = COUNTER_BITS
        self.slot = {f: [Signal(B, name=f"{name}_{f}_slot{p}") for p in range(window)] for f in ("events", "sops")}
        self.window_reads = Signal(B, name=f"{name}_reads_window")
        self.total = {f: Signal(B, name=f"{name}_{f}_total") for f in self.FIELDS}
        self.ring = {f: [Signal(B, name=f"{name}_{f}_ring{d}") for d in range(depth)] for f in self.FIELDS}
        self.run = {f: Signal(B, name=f"{name}_{f}_run") for f in ("sops", "reads")}

    def add(self, events, sops, reads):
        """Sync statements for one event: ``events[p]``, ``sops[p]`` per slot, ``reads``."""
        m = self.m
        for p in range(self.window):
            m.d.sync += [self.slot["events"][p].eq(self.slot["events"][p] + events[p]),
                         self.slot["sops"][p].eq(self.slot["sops"][p] + sops[p])]
        m.d.sync += [self.window_reads.eq(self.window_reads + reads),
                     self.run["reads"].eq(self.run["reads"] + reads),
                     self.run["sops"].eq(self.run["sops"] + sum(sops))]

    def commit(self, windows):
        """Sync statements for an end-of-window beat (``windows``: the ends taken before this
        one, i.e. the window's index): the window's steps enter the ring."""
        m, W = self.m, self.window
        blocks = self.depth // W
        block = windows[:(blocks - 1).bit_length()] if blocks > 1 else None
        cum = {}
        for f in ("events", "sops"):
            acc, cum[f] = self.total[f], []
            for p in range(W):
                acc = acc + self.slot[f][p]
                cum[f].append(acc)
            m.d.sync += [self.total[f].eq(cum[f][-1])] + [s.eq(0) for s in self.slot[f]]
        reads = self.total["reads"] + self.window_reads
        m.d.sync += [self.total["reads"].eq(reads), self.window_reads.eq(0)]
        for d in range(self.depth):
            b, p = divmod(d, W)
            writes = [self.ring["events"][d].eq(cum["events"][p]), self.ring["sops"][d].eq(cum["sops"][p]),
                      self.ring["reads"][d].eq(reads)]
            if block is None:
                m.d.sync += writes
            else:
                with m.If(block == b):
                    m.d.sync += writes

    def report(self, step):
        """``{field: count}`` through ``step`` (1-based) for events, sops and reads, and
        ``discarded_sops`` / ``discarded_reads``: work taken beyond it (combinational)."""
        bits = (self.depth - 1).bit_length()
        index = (step - 1)[:bits] if bits else 0
        B = COUNTER_BITS
        out = {f: Cat(*self.ring[f]).word_select(index, B) if bits else self.ring[f][0] for f in self.FIELDS}
        out["discarded_sops"] = (self.run["sops"] - out["sops"])[:B]
        out["discarded_reads"] = (self.run["reads"] - out["reads"])[:B]
        return out
