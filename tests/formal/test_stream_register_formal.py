"""Formal proof of the stream register (hdl/stream_register.py, the skid buffer).

Any input and any output ready, every cycle. One beat, chosen by the solver (``tag``, an
``AnySeq`` that may mark any one accepted beat), is followed from input to output: the
beats ahead of it are counted, and when they have all left, the next output beat must be
the chosen one with its payload. With a count of beats in flight that never goes below
zero (nothing comes out that did not go in) this gives: nothing lost, nothing duplicated,
order kept. Also: the output holds valid and payload while stalled; a beat in flight is
always offered (``o.valid``); the chosen beat leaves by the second consecutive ready cycle;
``i.ready`` is high after any cycle with ``o.ready`` high.

k-induction closes with the invariants on the skid register (``internals``), so the
properties hold for every trace, not only the first ``depth`` cycles.
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Cover, Elaboratable, Module, Signal

from formal_harness import elaborated, reset_once, run_length, run_sby, source_rule
from spinaps.hdl.stream_register import StreamRegister

pytestmark = pytest.mark.formal

WIDTH = 4
DEPTH = {"prove": 6, "cover": 8}


class DroppingRegister(StreamRegister):
    """Injected bug: the skid register is overwritten while full (``i.ready`` stays high)."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.i.ready.eq(1)
        return m


class StreamRegisterSpec(Elaboratable):
    def __init__(self, dut_class=StreamRegister):
        self.dut_class = dut_class

    def elaborate(self, platform):
        m = Module()
        dut = elaborated(m, "dut", self.dut_class(WIDTH))
        skid_valid, skid = dut.internals["skid_valid"], dut.internals["skid"]
        reset_once(m)
        m.d.comb += [dut.i.valid.eq(AnySeq(1)), dut.i.payload.eq(AnySeq(WIDTH)), dut.o.ready.eq(AnySeq(1))]
        take_in = dut.i.valid & dut.i.ready
        take_out = dut.o.valid & dut.o.ready

        in_flight = Signal(3)
        m.d.sync += in_flight.eq(in_flight + take_in - take_out)
        # Nothing out that did not go in; at most two beats held (output and skid register).
        m.d.comb += [Assert(~take_out | (in_flight != 0)), Assert(in_flight == dut.o.valid + skid_valid)]

        # The chosen beat.
        tag = AnySeq(1)
        tracking, done, through_skid = Signal(), Signal(), Signal()
        ahead = Signal(2)           # beats that went in before it and are still inside
        value = Signal(WIDTH)
        with m.If(take_in & tag & ~tracking & ~done):
            m.d.sync += [tracking.eq(1), value.eq(dut.i.payload), ahead.eq(in_flight - take_out)]
        with m.If(tracking & take_out):
            with m.If(ahead == 0):
                m.d.comb += Assert(dut.o.payload == value)
                m.d.sync += [tracking.eq(0), done.eq(1)]
            with m.Else():
                m.d.sync += ahead.eq(ahead - 1)
        with m.If(tracking & skid_valid & (skid == value) & (ahead == 1)):
            m.d.sync += through_skid.eq(1)
        # Where the chosen beat is (the induction invariant).
        with m.If(tracking):
            m.d.comb += Assert(ahead < in_flight)
            with m.If(ahead == 0):
                m.d.comb += Assert(dut.o.valid & (dut.o.payload == value))
            with m.Else():
                m.d.comb += Assert(skid_valid & (skid == value))

        source_rule(m, dut.o, name="o")
        # A beat inside is always offered; fair ready moves it out within a bound.
        m.d.comb += Assert((in_flight == 0) | dut.o.valid)
        ready_run = run_length(m, tracking & dut.o.ready, name="ready_run", width=3)
        m.d.comb += Assert(~tracking | (ready_run <= 1))
        was_ready = Signal()
        m.d.sync += was_ready.eq(dut.o.ready)
        m.d.comb += Assert(~was_ready | dut.i.ready)

        # Reachability: the chosen beat waits in the skid register and comes out.
        m.d.comb += Cover(through_skid & tracking & take_out & (ahead == 0))
        return m


@pytest.mark.parametrize("mode", ["prove", "cover"])
def test_stream_register(tmp_path, mode):
    res = run_sby(StreamRegisterSpec(), f"stream_register_{mode}", depth=DEPTH[mode], mode=mode,
                  tmp_path=tmp_path)
    assert res.code == 0, f"{res.status}: see {res.log}"


def test_stream_register_harness_catches_a_lost_beat(tmp_path):
    res = run_sby(StreamRegisterSpec(DroppingRegister), "stream_register_bug", depth=DEPTH["prove"],
                  mode="prove", tmp_path=tmp_path)
    assert res.code == 2, f"{res.status}: the injected bug was not found; see {res.log}"


def test_prove_refuses_a_bad_mode_or_depth(tmp_path):
    from spinaps.toolchain import prove

    with pytest.raises(ValueError, match="mode = 'bcm'"):
        prove("", "x", depth=3, mode="bcm", work_dir=tmp_path)
    with pytest.raises(ValueError, match="depth = 0"):
        prove("", "x", depth=0, mode="bmc", work_dir=tmp_path)
