"""Bounded model check of the board link's frame parser (boards/frame_parser.py).

Any bytes on the line (garbage, any type and length, any checksum), any ``idle``, any
ready on ``sample`` and ``weights``. A byte taken from the line goes through the parser's
one-byte stage (checked: in order, none lost or made up); the parser's state
(``internals["state"]``) when it handles the staged byte (``internals["take"]``) tells the
harness which part of a frame a byte is; the harness keeps its own copy of the frame
(header and payload bytes) and its own CRC-8 over them. The checksum's outcome is acted
on a cycle after the crc byte is handled (state ``VERDICT``).

Sample bytes (``sample`` stream): a count of beats in (payload bytes pushed; the last one
when the checksum is good) against beats out never goes below zero and equals
``sample.valid`` (one register: nothing duplicated or made up); one beat chosen by the
solver is followed from the line to ``sample`` (order kept, payload right, nothing lost);
only ``abort`` (a bad checksum or a timeout inside a sample: documented) removes a beat
without a handshake, and a good sample frame never aborts and had exactly ``sample_bytes``
payload bytes. Weights: written only after a good checksum, with the frame's layer,
address and word, and held while not ready. Liveness: ``weights.ready`` high gives the
``ack`` the next cycle (and only then); the staged byte waits only in BOOT, VERDICT, for a
synapse write and its ack or while a sample beat waits, and is handled the cycle after that beat is taken; the line
is refused only while a staged byte waits. A timeout never comes with a byte to handle.
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
#: 15 cycles hold one whole sample frame after a stall (its cover is reached at step 14: the
#: stage and the verdict add a cycle each); the BMC's 13 hold a whole sample frame and its
#: release, or a weights frame up to its ack, without a stall. A deeper bound grows steeply
#: (BMC 13: 17 s here, 14: 21-42 s, 15: 52 s).
DEPTH = {"bmc": 13, "cover": 15}


class SkippingParser(FrameParser):
    """Injected bug: the line is taken while a sample byte still waits for the accelerator."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        internals = self.internals
        with m.If(internals["state"]["SAMPLE"] & internals["staged"]):
            m.d.comb += [internals["take"].eq(1), internals["here"].eq(1)]
        return m


class FrameParserSpec(Elaboratable):
    def __init__(self, dut_class=FrameParser):
        self.dut_class = dut_class

    def elaborate(self, platform):
        m = Module()
        dut = elaborated(m, "dut", self.dut_class(sample_bytes=SAMPLE_BYTES, weight_layout=WEIGHT_LAYOUT,
                                                   layer_depths=[2], weights_writable=True, timeout_cycles=16))
        state = dut.internals["state"]
        reset_once(m)
        m.d.comb += [dut.bytes.valid.eq(AnySeq(1)), dut.bytes.payload.eq(AnySeq(8)), dut.idle.eq(AnySeq(1)),
                     dut.sample.ready.eq(AnySeq(1)), dut.weights.ready.eq(AnySeq(1))]
        # One state at a time (one-hot), and the line's register kept with it.
        m.d.comb += Assert(sum(s for s in state.values()) == 1)
        m.d.comb += Assert(dut.internals["blocked"] == (state["BOOT"] | state["VERDICT"] | state["WRITE"]
                                                        | state["ACK"]))

        # --- the stage: the line's bytes reach the state machine in order -----------------
        line_take = dut.bytes.valid & dut.bytes.ready
        b = dut.internals["byte"]
        take = dut.internals["take"]
        staged, staged_value = Signal(), Signal(8)
        with m.If(line_take):
            m.d.sync += [staged.eq(1), staged_value.eq(dut.bytes.payload)]
        with m.Elif(take):
            m.d.sync += staged.eq(0)
        m.d.comb += [Assert(~take | staged), Assert(~take | (b == staged_value)),
                     Assert(~line_take | ~staged | take), Assert(dut.bytes.ready == (~staged | take))]
        m.d.comb += Assert(~dut.internals["timed_out"] | ~dut.internals["staged"])

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
        checked = Signal()                           # the crc byte was handled last cycle
        good = Signal()
        m.d.sync += [checked.eq(state["CHECK"] & take), good.eq(state["CHECK"] & take & (b == crc))]
        m.d.comb += Assert(checked == state["VERDICT"])
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

        # --- error codes (docs/link.md), from the harness's copy of the header ------------
        len_lo, idle_late = Signal(8), Signal()
        m.d.sync += idle_late.eq(dut.idle)
        with m.If(state["LEN0"] & take):
            m.d.sync += len_lo.eq(b)
        want = Mux(ftype == p.T_PING, 0, Mux(ftype == p.T_SAMPLE, SAMPLE_BYTES, dut.weight_payload_bytes))
        known = (ftype == p.T_PING) | (ftype == p.T_SAMPLE) | (ftype == p.T_WEIGHTS)
        expected = Mux(~known, p.E_TYPE, Mux(Cat(len_lo, b) != want, p.E_LENGTH,
                                             Mux((ftype != p.T_PING) & ~idle_late, p.E_BUSY, 0)))
        with m.If(state["LEN1"] & take):
            m.d.comb += [Assert(dut.error == (expected != 0)), Assert(~dut.error | (dut.error_code == expected))]
        # (A timeout needs 16 idle cycles, beyond the BMC bound: this one is checked by the
        # cocotb abuse test, tests/boards/test_board_abuse.py.)
        frame_state = state["TYPE"] | state["LEN0"] | state["LEN1"] | state["SAMPLE"] | state["WEIGHTS"] | state["CHECK"]
        with m.If(frame_state & dut.internals["timed_out"]):
            m.d.comb += [Assert(dut.error), Assert(dut.error_code == p.E_TIMEOUT)]
        addr_good = (wbytes[0] == 0) & (Cat(wbytes[1], wbytes[2]) < 2)
        with m.If(checked):
            m.d.comb += Assert(dut.error == (~good | ((ftype == p.T_WEIGHTS) & ~addr_good)))
            with m.If(dut.error):
                m.d.comb += Assert(dut.error_code == Mux(good, p.E_ADDRESS, p.E_CRC))
        with m.If(~checked & ~(state["LEN1"] & take) & ~(frame_state & dut.internals["timed_out"])):
            m.d.comb += Assert(~dut.error)

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
        written = Signal()
        m.d.sync += written.eq(dut.weights.valid & dut.weights.ready)
        m.d.comb += Assert(dut.ack == written)
        # The staged byte waits only for the verdict, a synapse write and its ack or while a
        # sample beat waits, and a beat taken leaves ``sample.valid`` low next cycle (the count
        # above): with ``sample.ready`` high, a byte is handled at least every other cycle.
        m.d.comb += Assert(~staged | take | state["WRITE"] | state["ACK"] | state["VERDICT"] | state["BOOT"]
                           | dut.sample.valid)
        was_taken = Signal()
        m.d.sync += was_taken.eq(beat_out)
        m.d.comb += Assert(~was_taken | ~staged | take | state["WRITE"])

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
