"""Formal proof of the spike-event emitter (hdl/spike_events.py: a layer's spikes -> events).

The producing layer is any sequence of neuron words that keeps the component's contract:
the words of a step come in order (``word`` 0, 1, ..., ``last`` on the final one), with
any spikes and potentials, at any time, except that a new step does not start while
``busy``. The ``events`` consumer's ready is free.

A reference model in the harness keeps each neuron's history (section 4: ``h = (h << 1 |
y) & (2**tau - 1)``) and, at the end of a step, the set of neurons still to be announced.
Every event taken must be the lowest neuron of that set with its history (order kept, not
made up), and leaves the set (no duplicate); the end-of-step beat only comes when the set
is empty (nothing lost); nothing is offered between steps. Also: stable while stalled,
``busy`` exactly while a step is in or its events are out, and a step's events are out
after at most ``n + 1`` consecutive ready cycles (bounded liveness). k-induction closes
with the component's state tied to the reference model (``internals``).
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume, Cat, Cover, Elaboratable, Module, Signal, Value

from formal_harness import elaborated, reset_once, run_length, run_sby, source_rule
from spinaps.hdl.spike_events import SpikeEvents

pytestmark = pytest.mark.formal

#: (n, lanes, tau): two words per step with a two-step history; one word, tau 1 (LIF).
CONFIGS = {"n3_lanes2_tau2": (3, 2, 2), "n2_lanes2_tau1": (2, 2, 1)}
T_MAX = 3
DEPTH = {"prove": 6, "cover": 16}


class SkippingEvents(SpikeEvents):
    """Injected bug: the end-of-step beat is offered as soon as one event is left."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        mask = self.internals["mask"]
        with m.If(sum(mask) == 1):
            m.d.comb += self.events.payload.eos.eq(1)
        return m


class SpikeEventsSpec(Elaboratable):
    def __init__(self, n, lanes, tau, dut_class=SpikeEvents):
        self.n, self.lanes, self.tau, self.dut_class = n, lanes, tau, dut_class

    def elaborate(self, platform):
        m = Module()
        n, P, tau = self.n, self.lanes, self.tau
        dut = elaborated(m, "dut", self.dut_class(n=n, lanes=P, u_bits=2, tau=tau, t_max=T_MAX))
        st = dut.internals
        words = dut.words
        reset_once(m)

        # --- the producing layer: ordered words, no new step while busy ------------------
        w = dut.neurons.payload
        m.d.comb += [dut.neurons.valid.eq(AnySeq(1)), Value.cast(w).eq(AnySeq(len(Value.cast(w)))),
                     dut.events.ready.eq(AnySeq(1))]
        next_word = Signal(range(words))
        arriving = dut.neurons.valid
        m.d.comb += Assume(~arriving | ((w.word == next_word) & (w.last == (next_word == words - 1))))
        m.d.comb += Assume(~arriving | (next_word != 0) | ~dut.busy)
        with m.If(arriving):
            m.d.sync += next_word.eq(0 if words == 1 else (next_word + 1) % words)

        # --- reference model ----------------------------------------------------------------
        ref_pend = [Signal(name=f"ref_pend{j}") for j in range(n)]
        ref_hist = [Signal(tau, name=f"ref_hist{j}") for j in range(n)]
        todo = [Signal(name=f"todo{j}") for j in range(n)]       # still to be announced
        eos_due = Signal()
        for j in range(n):
            q, lane = divmod(j, P)
            now = arriving & (w.word == q)
            spike = Signal(name=f"ref_spike{j}")
            m.d.comb += spike.eq(Value.cast(w.spikes)[lane] if words == 1 else
                                 ((Value.cast(w.spikes)[lane] & now) | (ref_pend[j] & ~now)))
            with m.If(now):
                m.d.sync += ref_pend[j].eq(Value.cast(w.spikes)[lane])
            new = ((ref_hist[j] << 1) | spike)[:tau]
            with m.If(arriving & w.last):
                m.d.sync += [ref_hist[j].eq(new), todo[j].eq(new != 0)]
        with m.If(arriving & w.last):
            m.d.sync += eos_due.eq(1)

        ev = dut.events
        fire = ev.valid & ev.ready
        m.d.comb += Assert(~ev.valid | eos_due)                  # nothing between steps
        with m.If(fire & ~ev.payload.eos):
            for j in range(n):
                with m.If(ev.payload.index == j):
                    m.d.comb += [Assert(todo[j]), Assert(ev.payload.hist == ref_hist[j])]
                    m.d.comb += [Assert(~todo[i]) for i in range(j)]      # the lowest first
                    m.d.sync += todo[j].eq(0)
            m.d.comb += Assert(ev.payload.index < n)
        with m.If(fire & ev.payload.eos):
            m.d.comb += Assert(Cat(*todo) == 0)
            m.d.sync += eos_due.eq(0)

        source_rule(m, ev, name="events")
        m.d.comb += [Assert(dut.busy == ((next_word != 0) | eos_due)), Assert(~eos_due | (next_word == 0))]
        # Bounded liveness: with a step's events due, never idle, and out after n + 1 ready cycles.
        m.d.comb += Assert(~eos_due | ev.valid)
        ready_run = run_length(m, eos_due & ev.ready, name="ready_run", width=4)
        # (each ready cycle announced one neuron: with the ones left, at most n; hence the bound)
        m.d.comb += Assert(~eos_due | (ready_run + sum(todo) <= n))

        # Induction invariants: the component's state is the reference model's.
        for j in range(n):
            m.d.comb += [Assert(st["pending"][j] == ref_pend[j]), Assert(st["history"][j] == ref_hist[j]),
                         Assert(st["mask"][j] == todo[j])]
        m.d.comb += Assert(st["eos_pending"] == eos_due)

        # Reachability: a step with every neuron announced, under a stall.
        stalled_once = Signal()
        with m.If(ev.valid & ~ev.ready & ~ev.payload.eos):
            m.d.sync += stalled_once.eq(1)
        m.d.comb += Cover(fire & ev.payload.eos & stalled_once & Cat(*[h != 0 for h in ref_hist]).all())
        return m


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("mode", ["prove", "cover"])
def test_spike_events(tmp_path, config, mode):
    res = run_sby(SpikeEventsSpec(*CONFIGS[config]), f"spike_events_{config}_{mode}", depth=DEPTH[mode],
                  mode=mode, tmp_path=tmp_path)
    assert res.code == 0, f"{res.status}: see {res.log}"


def test_spike_events_harness_catches_a_lost_event(tmp_path):
    res = run_sby(SpikeEventsSpec(*CONFIGS["n3_lanes2_tau2"], dut_class=SkippingEvents), "spike_events_bug",
                  depth=DEPTH["prove"], mode="prove", tmp_path=tmp_path)
    assert res.code == 2, f"{res.status}: the injected bug was not found; see {res.log}"
