"""A layer's activity counters, kept per step so the top reports exactly steps 1..step
(docs/semantics.md 7 and 8.1)."""

from amaranth.hdl import Cat, Mux, Signal

__all__ = ["LayerCounters", "COUNTER_BITS"]

#: Width of every counter (as the result record's fields).
COUNTER_BITS = 32


class LayerCounters:
    """The events, synaptic-operation and read counters of one layer with window length
    ``window`` (1: time-sequential).

    ``add`` counts one event (per step of the window: events and operations; reads per
    event) into the window being accumulated; ``commit`` (its end-of-window beat) adds it to
    the totals; ``report(step)`` gives the counts through ``step`` and the work taken beyond
    it (``discarded_*``, speculative). How far back ``report`` reaches is ``depth`` steps:

    * ``depth = 2`` with ``window = 1`` (the sequential engine, whose layers run at most one
      step ahead of the decision unit): the totals after and before the latest step;
    * otherwise a ring of ``depth`` entries (a power of two, a multiple of ``window``) of
      cumulative counts, entry ``(t - 1) % depth`` through step ``t``, written a window at a
      time. Within the window being accumulated the counts are prefix sums over its steps,
      so the end of a window adds each to the total once (no chain of adders).

    ``reads`` counts whole windows (section 7): every step of a window gets the reads
    through the window's end. Counters are not storage in the cost model's sense.
    """

    FIELDS = ("events", "sops", "reads")

    def __init__(self, m, *, window, depth, name="count"):
        if depth % window or depth & (depth - 1):
            raise ValueError(f"counter ring depth {depth} must be a power of two and a multiple of the window {window}")
        self.m, self.window, self.depth = m, window, depth
        self.sequential = window == 1 and depth == 2
        B = COUNTER_BITS
        sig = (lambda what: Signal(B, name=f"{name}_{what}"))
        # The window being accumulated: prefix sums over its steps (events, sops), reads.
        self.prefix = {f: [sig(f"{f}_prefix{p}") for p in range(window)] for f in ("events", "sops")}
        self.prefix["reads"] = [sig("reads_window")]
        self.total = {f: sig(f"{f}_total") for f in self.FIELDS}
        if self.sequential:
            self.before = {f: sig(f"{f}_before") for f in self.FIELDS}
        else:
            self.ring = {f: [sig(f"{f}_ring{d}") for d in range(depth)] for f in self.FIELDS}

    def add(self, events, sops, reads):
        """Sync statements for one event: ``events[p]``, ``sops[p]`` per step of the window,
        ``reads``."""
        m = self.m
        for f, inc in (("events", events), ("sops", sops)):
            run = 0
            for p in range(self.window):
                run = run + inc[p]
                m.d.sync += self.prefix[f][p].eq(self.prefix[f][p] + run)
        m.d.sync += self.prefix["reads"][0].eq(self.prefix["reads"][0] + reads)

    def commit(self, windows):
        """Sync statements for an end-of-window beat (``windows``: the ends taken before this
        one, i.e. the window's index): the window's steps are added to the totals."""
        m, W = self.m, self.window
        after = {f: self.total[f] + self.prefix[f][-1] for f in self.FIELDS}
        m.d.sync += [self.total[f].eq(after[f]) for f in self.FIELDS]
        m.d.sync += [s.eq(0) for f in self.FIELDS for s in self.prefix[f]]
        if self.sequential:
            m.d.sync += [self.before[f].eq(self.total[f]) for f in self.FIELDS]
            return
        blocks = self.depth // W
        block = windows[:(blocks - 1).bit_length()] if blocks > 1 else None
        for d in range(self.depth):
            b, p = divmod(d, W)
            writes = [self.ring[f][d].eq(self.total[f] + self.prefix[f][p]) for f in ("events", "sops")]
            writes.append(self.ring["reads"][d].eq(after["reads"]))
            if block is None:
                m.d.sync += writes
            else:
                with m.If(block == b):
                    m.d.sync += writes

    def report(self, step, steps_taken):
        """``{field: count}`` through ``step`` (1-based) for events, sops and reads, and
        ``discarded_sops`` / ``discarded_reads``: the work taken beyond it (combinational).
        ``steps_taken``: the end-of-window beats taken."""
        B = COUNTER_BITS
        if self.sequential:
            current = steps_taken == step
            out = {f: Mux(current, self.total[f], self.before[f]) for f in self.FIELDS}
        else:
            bits = (self.depth - 1).bit_length()
            out = {f: Cat(*self.ring[f]).word_select((step - 1)[:bits], B) if bits else self.ring[f][0]
                   for f in self.FIELDS}
        for f in ("sops", "reads"):
            out[f"discarded_{f}"] = (self.total[f] + self.prefix[f][-1] - out[f])[:B]
        return out
