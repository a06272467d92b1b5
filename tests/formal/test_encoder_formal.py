"""Bounded model check of the encoder's event output (hdl/encoder.py, ``events``).

A small encoder (2 or 3 inputs, 2 lanes: one group, or two with a padding slot; tau 2;
t_max 2)
is loaded with any sample bytes and started with any seed whenever it is loaded and the
previous run has been announced (the accelerator's order); the consumer's ready is free.

The harness's reference model takes the draws the generators hand out (``internals``:
``draw`` on each ``advance``), applies docs/semantics.md section 3 to its own copy of the
sample (spike iff ``draw >> 24 < intensity``, padding never spikes), keeps each input's
history and the inputs still to announce, per step. Every event taken must be the lowest
input still to announce in the step being emitted, with its history (order kept, nothing
made up), and leaves the set (no duplicate); a step's end-of-step beat only comes when
the set is empty (nothing lost); a run draws for exactly ``groups`` groups per step and
ends after exactly ``t_max`` end-of-step beats. Also: stable while stalled, and with ready
high the next beat comes within ``WAIT`` cycles (bounded liveness).

The generators are replaced by free draws (``AnyDraws``: any 32-bit value per lane, every
cycle), so the properties hold for every draw sequence, the xorshift one included (which
tests/hdl/test_xorshift.py checks against the contract). With the real generators the
solver needs minutes per step beyond step 14 (yices, measured): the composed xorshift
steps, not the stream logic, are the hard part.

Bounded (bmc) from reset: the depth covers loading, a whole run with stalls, and the
start of a second run (the cover shows a complete run with a stall is reached).
"""

import pytest
from amaranth.asserts import AnyConst, AnySeq
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.hdl import Assert, Assume, Cat, Cover, Elaboratable, Module, Mux, Signal

from formal_harness import elaborated, reset_once, run_length, run_sby, source_rule
from spinaps import contract
from spinaps.hdl.encoder import BernoulliEncoder

pytestmark = pytest.mark.formal

LANES, TAU, T_MAX = 2, 2, 2
#: n_inputs -> (bmc depth, steps the cover must complete). Two inputs: one group, the depth
#: covers a whole run (the cover reaches it at step 10) and the stalls; three inputs: two
#: groups and a padding slot, the depth covers loading and the first step (a deeper bound
#: grows steeply: depth 16 took 130 s here).
CONFIGS = {2: (14, 2), 3: (12, 1)}
SEEDS = [0xACE1_0001, 0x0BAD_F00D]
#: With ready high, the next beat of a run comes within this many cycles (the first one
#: after ``start``: group fetch, compare, emitter, output register; a step without events:
#: its groups).
WAIT = 4


class AnyDraws(wiring.Component):
    """Stands in for the encoder's XorshiftBank (same signature): any draw, every cycle."""

    def __init__(self, lanes):
        super().__init__({"seed": In(contract.SEED_BITS), "load": In(1), "advance": In(1),
                          "draw": Out(32).array(lanes)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [d.eq(AnySeq(32)) for d in self.draw]
        return m


class ShortEncoder(BernoulliEncoder):
    """Injected bug: an input's history is announced without its newest spike's lag-1 bit."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        # (the events come from an output register: the last assignment to it wins)
        m.d.sync += self.events.payload.hist[1].eq(0)
        return m


class EncoderSpec(Elaboratable):
    def __init__(self, n_inputs, dut_class=BernoulliEncoder):
        self.n_inputs, self.dut_class = n_inputs, dut_class

    def elaborate(self, platform):
        m = Module()
        n, G = self.n_inputs, LANES
        cover_steps = CONFIGS[n][1]
        dut = self.dut_class(n_inputs=n, lanes=G, tau=TAU, t_max=T_MAX, base_seeds=SEEDS)
        dut._bank = AnyDraws(G)
        elaborated(m, "dut", dut)
        Q = dut.groups
        draw, advance = dut.internals["draw"], dut.internals["advance"]
        reset_once(m)
        ev = dut.events
        fire = ev.valid & ev.ready
        m.d.comb += [dut.sample.valid.eq(AnySeq(1)), dut.sample.payload.eq(AnySeq(8)),
                     dut.seed.eq(AnyConst(contract.SEED_BITS)), dut.start.eq(AnySeq(1)), ev.ready.eq(AnySeq(1))]

        # --- the sample as loaded ---------------------------------------------------------
        ref_byte = [Signal(8, name=f"ref_byte{i}") for i in range(n)]
        load_index = Signal(range(n))
        with m.If(dut.sample.valid & dut.sample.ready):
            for i in range(n):
                with m.If(load_index == i):
                    m.d.sync += ref_byte[i].eq(dut.sample.payload)
            m.d.sync += load_index.eq(Mux(load_index == n - 1, 0, load_index + 1))

        # --- runs: start once loaded and the previous run announced ----------------------
        active = Signal()          # a run whose end-of-step beats are not all out
        emitted = Signal(range(T_MAX + 1))
        m.d.comb += Assume(~dut.start | (dut.loaded & ~dut.running & ~active))

        # --- reference: draws per group, two steps' expectations (by step parity) ------------
        ref_hist = [Signal(TAU, name=f"ref_hist{i}") for i in range(n)]
        todo = [[Signal(name=f"todo{p}_{i}") for i in range(n)] for p in range(2)]
        todo_hist = [[Signal(TAU, name=f"todo_hist{p}_{i}") for i in range(n)] for p in range(2)]
        eos_due = [Signal(name=f"eos_due{p}") for p in range(2)]
        group = Signal(range(Q))
        step = Signal(range(T_MAX + 2))
        emit_parity = Signal()
        with m.If(dut.start):
            m.d.sync += [group.eq(0), step.eq(1), emit_parity.eq(1), active.eq(1), emitted.eq(0)]
            m.d.sync += [h.eq(0) for h in ref_hist]
        with m.Elif(advance):
            m.d.comb += Assert(active & (step <= T_MAX))          # no draw beyond the run
            parity = step[0]
            for p in range(2):
                with m.If(parity == p):
                    m.d.comb += Assert(~eos_due[p])                # at most one step ahead
                    for q in range(Q):
                        with m.If(group == q):
                            for g in range(G):
                                i = q * G + g
                                if i >= n:
                                    continue
                                spike = (draw[g] >> contract.DRAW_SHIFT["encoder"]) < ref_byte[i]
                                new = Cat(spike, ref_hist[i][:TAU - 1])
                                m.d.sync += [ref_hist[i].eq(new), todo[p][i].eq(new != 0), todo_hist[p][i].eq(new)]
                    with m.If(group == Q - 1):
                        m.d.sync += eos_due[p].eq(1)
            with m.If(group == Q - 1):
                m.d.sync += [group.eq(0), step.eq(step + 1)]
            with m.Else():
                m.d.sync += group.eq(group + 1)

        m.d.comb += Assert(~ev.valid | active)                     # nothing outside a run
        for p in range(2):
            with m.If((emit_parity == p) & fire):
                with m.If(~ev.payload.eos):
                    m.d.comb += Assert(ev.payload.index < n)
                    for i in range(n):
                        with m.If(ev.payload.index == i):
                            m.d.comb += [Assert(todo[p][i]), Assert(ev.payload.hist == todo_hist[p][i])]
                            m.d.comb += [Assert(~todo[p][j]) for j in range(i)]
                            m.d.sync += todo[p][i].eq(0)
                with m.Else():
                    m.d.comb += [Assert(eos_due[p]), Assert(Cat(*todo[p]) == 0), Assert(emitted < T_MAX)]
                    m.d.sync += [eos_due[p].eq(0), emit_parity.eq(~emit_parity), emitted.eq(emitted + 1)]
                    with m.If(emitted == T_MAX - 1):
                        m.d.sync += active.eq(0)
                        # The run drew for exactly t_max steps of Q groups.
                        m.d.comb += Assert((step == T_MAX + 1) & (group == 0))

        source_rule(m, ev, name="events")
        waiting = run_length(m, active & ev.ready & ~fire, name="waiting", width=4)
        m.d.comb += Assert(waiting <= WAIT)

        # Reachability: a whole run, with a stalled event and an input announced twice in a row.
        stalled, repeated, last = Signal(), Signal(), Signal()
        with m.If(ev.valid & ~ev.ready & ~ev.payload.eos):
            m.d.sync += stalled.eq(1)
        with m.If(fire & ~ev.payload.eos & (ev.payload.hist == 0b11)):
            m.d.sync += repeated.eq(1)
        with m.If(fire & ~ev.payload.eos & (ev.payload.index == n - 1)):
            m.d.sync += last.eq(1)
        m.d.comb += Cover(fire & ev.payload.eos & (emitted == cover_steps - 1) & stalled & last &
                          (repeated if cover_steps > 1 else 1))
        return m



@pytest.mark.parametrize("n_inputs", CONFIGS)
@pytest.mark.parametrize("mode", ["bmc", "cover"])
def test_encoder_events(tmp_path, mode, n_inputs):
    res = run_sby(EncoderSpec(n_inputs), f"encoder_n{n_inputs}_{mode}", depth=CONFIGS[n_inputs][0], mode=mode,
                  tmp_path=tmp_path)
    assert res.code == 0, f"{res.status}: see {res.log}"


def test_encoder_harness_catches_a_wrong_history(tmp_path):
    res = run_sby(EncoderSpec(2, ShortEncoder), "encoder_bug", depth=CONFIGS[2][0], mode="bmc", tmp_path=tmp_path)
    assert res.code == 2, f"{res.status}: the injected bug was not found; see {res.log}"
