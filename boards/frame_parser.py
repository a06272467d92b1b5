"""Frame parser of the board link: UART bytes in, samples and synapse writes out."""

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps.contract import check_int

from . import protocol as p
from .crc8 import crc8_next

__all__ = ["FrameParser"]


class FrameParser(wiring.Component):
    """Parses host frames (docs/link.md) and feeds the accelerator.

    Sample frames stream their payload straight into ``sample`` (no sample buffer), but the
    last byte is held back until the checksum is checked: the accelerator only starts on a
    good frame. A bad checksum or a timeout inside a sample raises ``abort`` for one cycle
    (the board core resets the accelerator with it: the partial sample is discarded).
    Weights frames are collected in a register and written through ``weights`` after the
    checksum. Pings raise ``info``. Every bad frame raises ``error`` with ``error_code``:

    * length wrong for the type (oversize included) or unknown type: the rest of the frame
      is ignored until the line has been idle for ``timeout_cycles`` (the length cannot be
      trusted);
    * sample or weights frame while ``idle`` is low (an inference is running or its result
      is not sent yet): ``busy``, the frame's bytes are skipped by its length (it is not
      queued; the running inference is not disturbed);
    * checksum mismatch, no such layer/address: the frame is dropped;
    * the line idle for ``timeout_cycles`` inside a frame (a truncated frame): ``timeout``.
    Bytes between frames that are not the sync byte are skipped silently.

    Latency: a byte is handled in the cycle it is taken; ``info`` / ``error`` / ``ack`` are
    strobes in the cycle of the byte (or timeout) that decides them. ``idle`` is sampled a
    cycle late (a register; it falls only when this parser feeds a sample, so the late value
    is never wrong, at worst a header in the very cycle the accelerator frees up is busy). Backpressure: ``bytes``
    is not ready while a sample byte waits for the accelerator (whatever the state) or a
    synapse write waits for ``weights.ready``; the UART receiver's one-byte register covers it (the accelerator
    takes a sample byte per cycle, the line brings one per ``10 * clocks_per_bit``).

    Parameters
    ----------
    sample_bytes : int
        Payload bytes of a sample frame (the accelerator's ``sample_bytes``).
    weight_layout : StructLayout
        The accelerator's ``weights`` payload (``layer``, ``addr``, ``data``).
    layer_depths : list of int
        Synapse-memory words per layer (writes beyond are refused with ``address``).
    weights_writable : bool
        Whether weights frames are accepted at all.
    timeout_cycles : int
        Idle cycles inside a frame after which it counts as truncated.

    After elaboration, ``internals`` holds the parser's ``fsm`` (``fsm.ongoing(state)``) for
    the formal proof (tests/formal); nothing is added to the design.
    """

    def __init__(self, *, sample_bytes, weight_layout, layer_depths, weights_writable, timeout_cycles):
        self.sample_bytes = check_int("sample_bytes", sample_bytes, p.SEED_BYTES + 1, p.MAX_PAYLOAD,
                                      "the seed and at least one intensity, within a frame's length field")
        self.timeout_cycles = check_int("timeout_cycles", timeout_cycles, 16, 1 << 30,
                                        "idle cycles that end a truncated frame")
        if not layer_depths or any(d < 1 for d in layer_depths):
            raise ValueError(f"layer_depths = {layer_depths!r}: need one positive depth per layer")
        self.layer_depths = list(layer_depths)
        self.weights_writable = bool(weights_writable)
        self.word_width = Shape.cast(data.Layout.cast(weight_layout)["data"].shape).width
        self.word_bytes = p.weight_word_bytes(self.word_width)
        self.weight_payload_bytes = 3 + self.word_bytes
        super().__init__({
            "bytes": In(stream.Signature(8)),
            "idle": In(1),
            "sample": Out(stream.Signature(8)),
            "weights": Out(stream.Signature(weight_layout)),
            "abort": Out(1),
            "info": Out(1),
            "ack": Out(1),
            "error": Out(1),
            "error_code": Out(8),
        })

    def elaborate(self, platform):
        m = Module()
        b = self.bytes.payload
        take = Signal()
        m.d.comb += take.eq(self.bytes.valid & self.bytes.ready)
        crc = Signal(8)
        crc_next = crc8_next(crc, b)
        held = Signal(8)
        wbuf = Signal(8 * self.weight_payload_bytes)

        # Everything the state machine decides on is a flip-flop or a compare of the byte
        # being taken with a constant or the crc register: the wide compares (the timeout
        # counter, the payload count, the length, the synapse address) are made a byte ahead
        # into flag registers. Straight into the next-state logic they made this machine the
        # longest path of the UP5K board design (nextpnr: 33.9 MHz; 37.8 MHz without them, the
        # path then in the encoder). No decision moves by a cycle.
        idle_timer = Signal(range(self.timeout_cycles + 1))
        timed_out = Signal()          # idle_timer == timeout_cycles, as a register
        with m.If(take):
            m.d.sync += [idle_timer.eq(0), timed_out.eq(0)]
        with m.Elif(~timed_out):
            m.d.sync += [idle_timer.eq(idle_timer + 1), timed_out.eq(idle_timer == self.timeout_cycles - 1)]

        # The frame type, decoded when the type byte is taken.
        is_ping, is_sample, is_weights = Signal(name="is_ping"), Signal(name="is_sample"), Signal(name="is_weights")
        # When the length's low byte is taken: whether it is the type's, and the high byte
        # the type needs (LEN1 then compares the byte with a register, as CHECK does).
        low_ok = Signal()
        high_want = Signal(8)
        # Payload (or skipped) bytes left in the frame, and whether the next one is the last.
        left = Signal(16)
        last = Signal()
        # The synapse address check of the weights frame, made as its bytes come in.
        addr_ok = Signal()
        # The accelerator's ready, a cycle late: it only falls because this parser fed it a
        # sample (and never in a header), so a late value is never a wrong one.
        idle = Signal()
        m.d.sync += idle.eq(self.idle)

        # The sample output is a register, emptied when the accelerator takes it.
        with m.If(self.sample.ready):
            m.d.sync += self.sample.valid.eq(0)
        # The line is refused while a sample byte waits for the accelerator (in any state: it
        # is the last one, or one in the middle of a sample) and in BOOT and WRITE, a register
        # kept with the state: ``bytes.ready`` is one gate from flip-flops, not a decode of
        # the state that every decision of this machine would wait for.
        blocked = Signal(init=1)
        m.d.comb += self.bytes.ready.eq(~self.sample.valid & ~blocked)

        def fail(code, abort=None, then="HUNT"):
            m.d.comb += [self.error.eq(1), self.error_code.eq(code)]
            if abort is not None:           # a sample was being fed: discard it
                m.d.comb += self.abort.eq(abort)
                with m.If(abort):
                    m.d.sync += self.sample.valid.eq(0)
            m.next = then

        def count_from(n):
            m.d.sync += [left.eq(n), last.eq(n == 1)]

        def count_down():
            m.d.sync += [left.eq(left - 1), last.eq(left == 2)]

        w_layer = wbuf[:8]
        w_addr = wbuf[8:24]
        m.d.comb += [self.weights.payload.layer.eq(w_layer), self.weights.payload.addr.eq(w_addr),
                     self.weights.payload.data.eq(wbuf[24:24 + self.word_width])]
        new_wbuf = Cat(wbuf[8:], b)
        new_ok = Const(0)
        for index, depth in enumerate(self.layer_depths):
            new_ok = Mux(new_wbuf[:8] == index, new_wbuf[8:24] < depth, new_ok)

        with m.FSM() as fsm:
            # One cycle out of reset: the state register changes once, so that Icarus
            # evaluates every combinational block of this FSM (it would otherwise leave them
            # X until the first real transition, which then never comes).
            with m.State("BOOT"):
                m.d.sync += blocked.eq(0)
                m.next = "HUNT"
            with m.State("HUNT"):
                with m.If(take & (b == p.SYNC)):
                    m.d.sync += crc.eq(0)
                    m.next = "TYPE"
            with m.State("TYPE"):
                with m.If(take):
                    m.d.sync += [crc.eq(crc_next), is_ping.eq(b == p.T_PING), is_sample.eq(b == p.T_SAMPLE),
                                 is_weights.eq(b == p.T_WEIGHTS)]
                    m.next = "LEN0"
                with m.Elif(timed_out):
                    fail(p.E_TIMEOUT)
            with m.State("LEN0"):
                with m.If(take):
                    m.d.sync += crc.eq(crc_next)
                    m.d.sync += [
                        low_ok.eq((is_ping & (b == 0)) | (is_sample & (b == (self.sample_bytes & 0xFF)))
                                  | (is_weights & (b == (self.weight_payload_bytes & 0xFF)))),
                        high_want.eq(Mux(is_sample, self.sample_bytes >> 8, self.weight_payload_bytes >> 8)
                                     & Mux(is_ping, 0, 0xFF)),
                    ]
                    m.next = "LEN1"
                with m.Elif(timed_out):
                    fail(p.E_TIMEOUT)
            with m.State("LEN1"):
                length_ok = low_ok & (b == high_want)
                with m.If(take):
                    m.d.sync += crc.eq(crc_next)
                    with m.If(is_ping):
                        with m.If(~length_ok):
                            fail(p.E_LENGTH, then="DRAIN")
                        with m.Else():
                            m.next = "CHECK"
                    with m.Elif(is_sample):
                        with m.If(~length_ok):
                            fail(p.E_LENGTH, then="DRAIN")
                        with m.Elif(~idle):
                            count_from(self.sample_bytes + 1)
                            fail(p.E_BUSY, then="SKIP")
                        with m.Else():
                            count_from(self.sample_bytes)
                            m.next = "SAMPLE"
                    with m.Elif(is_weights):
                        with m.If(~length_ok):
                            fail(p.E_LENGTH, then="DRAIN")
                        with m.Elif(Const(not self.weights_writable)):
                            count_from(self.weight_payload_bytes + 1)
                            fail(p.E_NOT_WRITABLE, then="SKIP")
                        with m.Elif(~idle):
                            count_from(self.weight_payload_bytes + 1)
                            fail(p.E_BUSY, then="SKIP")
                        with m.Else():
                            count_from(self.weight_payload_bytes)
                            m.next = "WEIGHTS"
                    with m.Else():
                        fail(p.E_TYPE, then="DRAIN")
                with m.Elif(timed_out):
                    fail(p.E_TIMEOUT)
            with m.State("SAMPLE"):
                with m.If(take):
                    # The payload register is loaded on every byte taken here and in CHECK, and
                    # only ``valid`` waits for the decisions (a byte is only taken while
                    # ``sample.valid`` is low, so no beat is overwritten): the byte compares
                    # stay out of its enable (UP5K timing, nextpnr).
                    m.d.sync += [crc.eq(crc_next), self.sample.payload.eq(b)]
                    count_down()
                    with m.If(last):
                        m.d.sync += held.eq(b)       # held back until the checksum is good
                        m.next = "CHECK"
                    with m.Else():
                        m.d.sync += self.sample.valid.eq(1)
                with m.Elif(timed_out):
                    fail(p.E_TIMEOUT, abort=Const(1))
            with m.State("WEIGHTS"):
                with m.If(take):
                    m.d.sync += [crc.eq(crc_next), wbuf.eq(new_wbuf), addr_ok.eq(new_ok)]
                    count_down()
                    with m.If(last):
                        m.next = "CHECK"
                with m.Elif(timed_out):
                    fail(p.E_TIMEOUT)
            with m.State("CHECK"):
                with m.If(take):
                    m.d.sync += self.sample.payload.eq(held)
                    with m.If(b != crc):
                        fail(p.E_CRC, abort=is_sample)
                    with m.Elif(is_ping):
                        m.d.comb += self.info.eq(1)
                        m.next = "HUNT"
                    with m.Elif(is_sample):
                        m.d.sync += self.sample.valid.eq(1)
                        m.next = "HUNT"
                    with m.Elif(addr_ok):
                        m.d.sync += blocked.eq(1)
                        m.next = "WRITE"
                    with m.Else():
                        fail(p.E_ADDRESS)
                with m.Elif(timed_out):
                    fail(p.E_TIMEOUT, abort=is_sample)
            with m.State("WRITE"):
                m.d.comb += self.weights.valid.eq(1)
                with m.If(self.weights.ready):
                    m.d.sync += blocked.eq(0)
                    m.d.comb += self.ack.eq(1)
                    m.next = "HUNT"
            with m.State("SKIP"):
                with m.If(take):
                    count_down()
                    with m.If(last):
                        m.next = "HUNT"
                with m.Elif(timed_out):
                    m.next = "HUNT"
            with m.State("DRAIN"):
                with m.If(timed_out):
                    m.next = "HUNT"
        self.internals = {"fsm": fsm}
        return m
