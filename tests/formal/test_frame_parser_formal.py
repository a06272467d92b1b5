"""Bounded model check of the board link's frame parser (boards/frame_parser.py).

Any bytes on the line (garbage, any type and length, any checksum), any ``idle``, any
ready on ``sample`` and ``weights``. The parser's state (``internals["fsm"]``) tells the
harness which part of a frame a byte is; the harness keeps its own copy of the frame
(header and payload bytes) and its own CRC-8 over them.

Sample bytes (``sample`` stream): a count of beats in (payload bytes pushed; the last one
when the checksum is good) against beats out never goes below zero and equals
``sample.valid`` (one register: nothing duplicated or made up); one beat chosen by the
solver is followed from the line to ``sample`` (order kept, payload right, nothing lost);
only ``abort`` (a bad checksum or a timeout inside a sample: documented) removes a beat
without a handshake, and a good sample frame never aborts and had exactly ``sample_bytes``
payload bytes. Weights: written only after a good checksum, with the frame's layer,
address and word, and held while not ready. Liveness: ``weights.ready`` high gives the
``ack`` in the same cycle; the line (``bytes.ready``) is refused only for a synapse write
or while a sample beat waits, and is taken the cycle after that beat is.
"""

import pytest
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Cat, Cover, Elaboratable, Module, Mux, Signal
from amaranth.lib import data

from formal_harness import elaborated, reset_once, run_sby, source_rule
from spinaps.boards import protocol as p
from spinaps.boards.crc8 import crc8_next
from spinaps.boards.frame_parser import FrameParser

pytestmark = pytest.mark.formal

SAMPLE_BYTES = p.SEED_BYTES + 1          # the smallest sample: the seed and one intensity
WEIGHT_LAYOUT = data.StructLayout({"layer": 1, "addr": 2, "data": 4})
#: 14 cycles hold one whole sample frame after a stall (its cover is reached at step 13);
#: a deeper bound grows steeply (18: 70 s here).
DEPTH = {"bmc": 14, "cover": 14}


class SkippingParser(FrameParser):
    """Injected bug: the line is taken while a sample byte still waits for the accelerator."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        with m.If(self.internals["fsm"].ongoing("SAMPLE")):
            m.d.comb += self.bytes.ready.eq(1)
        return m


class FrameParserSpec(Elaboratable):
    def __init__(self, dut_class=FrameParser):
        self.dut_class = dut_class

    def elaborate(self, platform):
        m = Module()
        dut = elaborated(m, "dut", self.dut_class(sample_bytes=SAMPLE_BYTES, weight_layout=WEIGHT_LAYOUT,
                                                   layer_depths=[2], weights_writable=True, timeout_cycles=16))
        fsm = dut.internals["fsm"]
        state = {name: fsm.ongoing(name) for name in ("HUNT", "TYPE", "LEN0", "LEN1", "SAMPLE", "WEIGHTS",
                                                      "CHECK", "WRITE")}
        reset_once(m)
        m.d.comb += [dut.bytes.valid.eq(AnySeq(1)), dut.bytes.payload.eq(AnySeq(8)), dut.idle.eq(AnySeq(1)),
                     dut.sample.ready.eq(AnySeq(1)), dut.weights.ready.eq(AnySeq(1))]
        b = dut.bytes.payload
        take = dut.bytes.valid & dut.bytes.ready

        # --- the harness's copy of the frame ----------------------------------------------
        crc = Signal(8)
        ftype = Signal(8)
        pos = Signal(8)                              # payload bytes so far
        last_byte = Signal(8)                        # the sample's last payload byte
        wbytes = [Signal(8, name=f"wbyte{i}") for i in range(dut.weight_payload_bytes)]
        with m.If(state["HUNT"] & take):
            m.d.sync += [crc.eq(0), pos.eq(0)]
        with m.If((state["TYPE"] | state["LEN0"] | state["LEN1"] | state["SAMPLE"] | state["WEIGHTS"]) & take):
            m.d.sync += crc.eq(crc8_next(crc, b))
        with m.If(state["TYPE"] & take):
            m.d.sync += ftype.eq(b)
        with m.If((state["SAMPLE"] | state["WEIGHTS"]) & take):
            m.d.sync += pos.eq(pos + 1)
            with m.If(pos == SAMPLE_BYTES - 1):
                m.d.sync += last_byte.eq(b)
            for i, w in enumerate(wbytes):
                with m.If(pos == i):
                    m.d.sync += w.eq(b)
        checked = state["CHECK"] & take
        good = checked & (b == crc)
        is_sample = ftype == p.T_SAMPLE

        # --- sample beats: in, out, one followed ------------------------------------------
        pushed = state["SAMPLE"] & take & (pos != SAMPLE_BYTES - 1)
        released = good & is_sample
        beat_in = pushed | released
        beat_value = Signal(8)
        m.d.comb += beat_value.eq(Mux(released, last_byte, b))
        beat_out = dut.sample.valid & dut.sample.ready
        in_flight = Signal(2)
        with m.If(dut.abort):
            m.d.sync += in_flight.eq(0)
        with m.Else():
            m.d.sync += in_flight.eq(in_flight + beat_in - beat_out)
        m.d.comb += [Assert(~beat_out | (in_flight != 0)), Assert(in_flight == dut.sample.valid)]

        tag = AnySeq(1)
        tracking, done, value = Signal(), Signal(), Signal(8)
        with m.If(beat_in & tag & ~tracking & ~done):
            m.d.sync += [tracking.eq(1), value.eq(beat_value)]
        m.d.comb += Assert(~beat_in | (in_flight == beat_out))     # never onto a waiting beat
        with m.If(tracking & beat_out):
            m.d.comb += Assert(dut.sample.payload == value)
            m.d.sync += [tracking.eq(0), done.eq(1)]
        with m.If(dut.abort):
            m.d.sync += tracking.eq(0)

        source_rule(m, dut.sample, name="sample", dropped=dut.abort)
        with m.If(released):
            m.d.comb += [Assert(pos == SAMPLE_BYTES), Assert(~dut.abort)]
        with m.If(checked & is_sample & ~good):
            m.d.comb += [Assert(dut.abort), Assert(dut.error)]

        # --- weights: after a good checksum only, the frame's fields ----------------------
        weights_ok = Signal()
        with m.If(good & (ftype == p.T_WEIGHTS)):
            m.d.sync += weights_ok.eq(1)
        with m.If(state["HUNT"]):
            m.d.sync += weights_ok.eq(0)
        wp = dut.weights.payload
        with m.If(dut.weights.valid):
            m.d.comb += [Assert(weights_ok), Assert(wp.layer == wbytes[0][:1]),
                         Assert(wp.addr == Cat(wbytes[1], wbytes[2])[:2]), Assert(wp.data == wbytes[3][:4])]
        source_rule(m, dut.weights, name="weights")

        # --- liveness ---------------------------------------------------------------------
        m.d.comb += Assert(~(dut.weights.valid & dut.weights.ready) | dut.ack)
        # The line is refused only for a synapse write or while a sample beat waits, and a
        # beat taken leaves ``sample.valid`` low next cycle (the count above): with
        # ``sample.ready`` high, the line is taken at least every other cycle.
        m.d.comb += Assert(dut.bytes.ready | state["WRITE"] | fsm.ongoing("BOOT") | dut.sample.valid)
        was_taken = Signal()
        m.d.sync += was_taken.eq(beat_out)
        m.d.comb += Assert(~was_taken | dut.bytes.ready | state["WRITE"])

        # Reachability: a followed sample beat out after a stall, and a synapse write.
        stalled, released_seen = Signal(), Signal()
        with m.If(dut.sample.valid & ~dut.sample.ready):
            m.d.sync += stalled.eq(1)
        with m.If(released):
            m.d.sync += released_seen.eq(1)
        m.d.comb += Cover(tracking & beat_out & stalled & released_seen)
        m.d.comb += Cover(dut.weights.valid & dut.weights.ready)
        return m


@pytest.mark.parametrize("mode", ["bmc", "cover"])
def test_frame_parser(tmp_path, mode):
    res = run_sby(FrameParserSpec(), f"frame_parser_{mode}", depth=DEPTH[mode], mode=mode, tmp_path=tmp_path)
    assert res.code == 0, f"{res.status}: see {res.log}"


def test_frame_parser_harness_catches_an_overwritten_byte(tmp_path):
    res = run_sby(FrameParserSpec(SkippingParser), "frame_parser_bug", depth=DEPTH["bmc"], mode="bmc",
                  tmp_path=tmp_path)
    assert res.code == 2, f"{res.status}: the injected bug was not found; see {res.log}"
