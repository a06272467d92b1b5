"""Frame parser of the board link: UART bytes in, samples and synapse writes out."""

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps.contract import check_int

from . import protocol as p
from .crc8 import crc8_next
from .one_hot import OneHot

__all__ = ["FrameParser"]

#: The parser's states (:class:`~.one_hot.OneHot`, BOOT first).
STATES = ("BOOT", "HUNT", "TYPE", "LEN0", "LEN1", "SAMPLE", "WEIGHTS", "CHECK", "VERDICT", "WRITE", "ACK",
          "SKIP", "DRAIN")


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

    A byte taken from ``bytes`` first goes into a one-byte stage, registered together with
    its compares with every constant the state machine looks for; the state machine (one
    flip-flop per state) then decides on flip-flops only, and the checksum compare is
    registered too and acted on a cycle after the crc byte (state ``VERDICT``). Each
    flip-flop input is then at most about four LUT levels deep (the UP5K at 48 MHz; the
    decisions straight on the UART's byte were ten).

    Latency: a byte taken is handled the next cycle (or when the accelerator has taken the
    sample byte before it); ``info`` / ``error`` / ``ack`` / ``abort`` are strobes in the
    cycle that decides them: the handling of the header byte, a timeout, or for the
    checksum's outcome the cycle after the crc byte is handled, ``ack`` the cycle after
    the synapse write is taken; a good sample's last byte
    is offered three cycles after its crc byte is taken. ``error_code`` is meaningful only
    with ``error``. The timeout counts cycles in which neither ``bytes.valid`` nor the stage
    holds a byte. ``idle`` is sampled a cycle late
    (a register; it falls only when this parser feeds a sample, so the late value is never
    wrong, at worst a header in the very cycle the accelerator frees up is busy).
    Backpressure: ``bytes`` is ready while the stage is empty or its byte is handled; the
    state machine holds the stage while a sample byte waits for the accelerator (whatever
    the state), for the checksum's verdict and while a synapse write waits for
    ``weights.ready``. The UART receiver's one-byte register covers it (the accelerator
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

    After elaboration, ``internals`` holds, for the formal proof (tests/formal), the state
    flip-flops (``state``: name -> 1-bit signal), the stage (``byte``, ``staged``), ``take``
    (the state machine handles the staged byte this cycle; ``here``, the same outside BOOT,
    VERDICT, WRITE and ACK, is what the states read), ``blocked`` and ``timed_out``; nothing is
    added to the design.
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
        fsm = OneHot(m, STATES)
        st, go = fsm.states, fsm.go
        n_sample, n_weights = self.sample_bytes, self.weight_payload_bytes

        # --- the byte stage ---------------------------------------------------------------
        line = self.bytes.payload
        byte = Signal(8)              # the byte the state machine handles
        staged = Signal()
        # The staged byte's compares with every constant a state looks for (one flip-flop per
        # distinct value) and, for a length's high byte, with the high byte its type wants
        # (the type is known by then: the low byte lies between).
        consts = {p.SYNC, p.T_PING, p.T_SAMPLE, p.T_WEIGHTS, 0, n_sample & 0xFF, n_weights & 0xFF}
        equals = {c: Signal(name=f"byte_is_{c:02x}") for c in sorted(consts)}
        is_ping, is_sample, is_weights = Signal(name="is_ping"), Signal(name="is_sample"), Signal(name="is_weights")
        high_ok = Signal()
        # The line is held while a sample byte waits for the accelerator (in any state: it is
        # the last one, or one in the middle of a sample) and, a register kept with the state
        # (``blocked == BOOT | VERDICT | WRITE | ACK``), while no state takes bytes.
        blocked = Signal(init=1)
        take = Signal()               # the state machine handles the staged byte
        m.d.comb += [take.eq(staged & ~self.sample.valid & ~blocked),
                     self.bytes.ready.eq(~staged | (~self.sample.valid & ~blocked))]
        # The compares as a nibble decode (one LUT each, kept as nets) and a product of two: left
        # to itself, Yosys shared logic between the compares in chains four LUTs deep.
        wanted = {*consts, n_sample >> 8, n_weights >> 8}
        nibble_is = {(half, v): Signal(name=f"line_{half}_is_{v:x}", attrs={"keep": 1})
                     for half in ("lo", "hi") for v in {(c >> 4 if half == "hi" else c & 15) for c in wanted}}
        m.d.comb += [flag.eq((line[4:] if half == "hi" else line[:4]) == v) for (half, v), flag in nibble_is.items()]

        def line_is(c):
            return nibble_is["lo", c & 15] & nibble_is["hi", c >> 4]

        with m.If(self.bytes.valid & self.bytes.ready):
            m.d.sync += [byte.eq(line), staged.eq(1), *[flag.eq(line_is(c)) for c, flag in equals.items()],
                         high_ok.eq((is_ping & line_is(0)) | (is_sample & line_is(n_sample >> 8))
                                    | (is_weights & line_is(n_weights >> 8)))]
        with m.Elif(take):
            m.d.sync += staged.eq(0)
        # In the states that handle bytes ``blocked`` is low, so their decisions read this
        # two-input product instead of ``take`` (one LUT input fewer on every transition).
        here = Signal()
        m.d.comb += here.eq(staged & ~self.sample.valid)

        # --- registers the decisions are made on -----------------------------------------
        crc = Signal(8)
        crc_ok = Signal()             # the byte handled last cycle equalled the crc before it
        m.d.sync += crc_ok.eq(byte == crc)
        with m.If(st["HUNT"]):
            m.d.sync += crc.eq(0)
        with m.Elif(take):            # read only up to CHECK; HUNT starts it again
            m.d.sync += crc.eq(crc8_next(crc, byte))
        # The line idle: counted while neither the UART nor the stage holds a byte, so a
        # timeout never comes with a staged byte (the timeout rule after the states needs no
        # ``~staged`` and no priority against the byte branches).
        idle_timer = Signal(range(self.timeout_cycles + 1))
        timed_out = Signal()          # idle_timer == timeout_cycles, as a register
        with m.If(staged | self.bytes.valid):
            m.d.sync += [idle_timer.eq(0), timed_out.eq(0)]
        with m.Elif(~timed_out):
            m.d.sync += [idle_timer.eq(idle_timer + 1), timed_out.eq(idle_timer == self.timeout_cycles - 1)]
        low_ok = Signal()             # the length's low byte is the type's (so the type is known)
        length_ok = low_ok & high_ok
        # Payload bytes left, loaded in LEN1 with the type's length and counted down on every
        # byte handled (what it counts outside a payload is never read): ``last``, the next
        # byte is the payload's last; ``empty``, the payload is over (SKIP: the crc byte).
        left = Signal(16)
        last, empty = Signal(), Signal()
        addr_ok = Signal()            # the synapse address check, made as the bytes come in
        held = Signal(8)              # a sample's last byte, until the checksum is good
        wbuf = Signal(8 * n_weights)
        # The accelerator's ready, a cycle late: it only falls because this parser fed it a
        # sample (and never in a header), so a late value is never a wrong one.
        idle = Signal()
        m.d.sync += idle.eq(self.idle)

        with m.If(take):
            with m.If(st["LEN1"]):
                m.d.sync += [left.eq(Mux(is_sample, n_sample, n_weights)),
                             last.eq(Mux(is_sample, n_sample == 1, n_weights == 1)), empty.eq(0)]
            with m.Else():
                m.d.sync += [left.eq(left - 1), last.eq(left == 2), empty.eq(last)]

        # The sample output is a register, emptied when the accelerator takes it. Its next value
        # is ``beat | keep & ~sample.ready`` with both terms kept as nets: the accelerator's
        # ready comes a few LUT levels deep from its own state, and a netlist that merged it
        # into the parser's decisions put three more levels behind it (Yosys, UP5K).
        beat = Signal(attrs={"keep": 1})         # a beat is offered next cycle (never while one waits)
        keep = Signal(attrs={"keep": 1})         # the waiting beat stays unless taken
        m.d.sync += self.sample.valid.eq(beat | (keep & ~self.sample.ready))

        # ``error_code`` is read only with ``error`` (the responder latches it then), so it is
        # made from where the machine decides, not from the whole decision: in VERDICT the
        # checksum or the address, in LEN1 with a byte the header checks (``low_ok`` implies a
        # known type), anywhere else a timeout.
        len1_code = Mux(~low_ok, Mux(is_ping | is_sample | is_weights, p.E_LENGTH, p.E_TYPE),
                        Mux(~high_ok, p.E_LENGTH,
                            Mux(is_weights & Const(not self.weights_writable), p.E_NOT_WRITABLE, p.E_BUSY)))
        m.d.comb += self.error_code.eq(Mux(st["VERDICT"], Mux(crc_ok, p.E_ADDRESS, p.E_CRC),
                                           Mux(st["LEN1"] & ~timed_out, len1_code, p.E_TIMEOUT)))

        def fail(src, then="HUNT", abort=None):
            m.d.comb += self.error.eq(1)
            if abort is not None:           # a sample was being fed: discard it
                m.d.comb += self.abort.eq(abort)
            go(src, then)

        w_layer, w_addr = wbuf[:8], wbuf[8:24]
        m.d.comb += [self.weights.payload.layer.eq(w_layer), self.weights.payload.addr.eq(w_addr),
                     self.weights.payload.data.eq(wbuf[24:24 + self.word_width])]
        new_wbuf = Cat(wbuf[8:], byte)
        new_ok = Const(0)
        for index, depth in enumerate(self.layer_depths):
            new_ok = Mux(new_wbuf[:8] == index, new_wbuf[8:24] < depth, new_ok)

        # One cycle out of reset: the state registers change once, so that Icarus evaluates
        # every combinational block that reads them (it would otherwise leave them X until
        # the first real transition, which then never comes).
        with m.If(st["BOOT"]):
            m.d.sync += blocked.eq(0)
            go("BOOT", "HUNT")
        with m.If(st["HUNT"] & here & equals[p.SYNC]):
            go("HUNT", "TYPE")
        # Error codes (docs/link.md) are in ``error_code`` above; each ``fail`` names its own;
        # timeouts are handled by one rule after the states.
        with m.If(st["TYPE"]):
            with m.If(here):
                m.d.sync += [is_ping.eq(equals[p.T_PING]), is_sample.eq(equals[p.T_SAMPLE]),
                             is_weights.eq(equals[p.T_WEIGHTS])]
                go("TYPE", "LEN0")
        with m.If(st["LEN0"]):
            with m.If(here):
                m.d.sync += low_ok.eq((is_ping & equals[0]) | (is_sample & equals[n_sample & 0xFF])
                                      | (is_weights & equals[n_weights & 0xFF]))
                go("LEN0", "LEN1")
        with m.If(st["LEN1"]):
            with m.If(here):
                with m.If(~length_ok):
                    fail("LEN1", then="DRAIN")                    # E_TYPE, E_LENGTH
                with m.Elif(is_ping):
                    go("LEN1", "CHECK")
                with m.Elif(is_weights & Const(not self.weights_writable)):
                    fail("LEN1", then="SKIP")                     # E_NOT_WRITABLE
                with m.Elif(~idle):
                    fail("LEN1", then="SKIP")                     # E_BUSY
                with m.Elif(is_sample):
                    go("LEN1", "SAMPLE")
                with m.Else():
                    go("LEN1", "WEIGHTS")
        with m.If(st["SAMPLE"]):
            with m.If(here):
                # The payload register is loaded on every byte handled here and in CHECK, and
                # only ``valid`` waits for the decisions (a byte is only handled while
                # ``sample.valid`` is low, so no beat is overwritten).
                m.d.sync += self.sample.payload.eq(byte)
                with m.If(last):
                    m.d.sync += held.eq(byte)
                    go("SAMPLE", "CHECK")
                with m.Else():
                    m.d.comb += beat.eq(1)
        with m.If(st["WEIGHTS"]):
            with m.If(here):
                m.d.sync += [wbuf.eq(new_wbuf), addr_ok.eq(new_ok)]
                with m.If(last):
                    go("WEIGHTS", "CHECK")
        with m.If(st["CHECK"]):
            with m.If(here):
                # The crc byte: compared into ``crc_ok``, acted on in VERDICT, the line held.
                m.d.sync += [self.sample.payload.eq(held), blocked.eq(1)]
                go("CHECK", "VERDICT")
        with m.If(st["VERDICT"]):
            m.d.sync += blocked.eq(0)
            with m.If(~crc_ok):
                fail("VERDICT", abort=is_sample)                  # E_CRC
            with m.Elif(is_ping):
                m.d.comb += self.info.eq(1)
                go("VERDICT", "HUNT")
            with m.Elif(is_sample):
                m.d.comb += beat.eq(1)
                go("VERDICT", "HUNT")
            with m.Elif(addr_ok):
                m.d.sync += blocked.eq(1)
                go("VERDICT", "WRITE")
            with m.Else():
                fail("VERDICT")                                   # E_ADDRESS
        with m.If(st["WRITE"]):
            m.d.comb += self.weights.valid.eq(1)
            with m.If(self.weights.ready):
                go("WRITE", "ACK")
        # The write taken, acknowledged a cycle later: the accelerator's ready (a few LUT levels
        # deep in it) then reaches only WRITE and ACK, not HUNT's many terms (UP5K timing).
        with m.If(st["ACK"]):
            m.d.sync += blocked.eq(0)
            m.d.comb += self.ack.eq(1)
            go("ACK", "HUNT")
        with m.If(st["SKIP"] & here & empty):
            go("SKIP", "HUNT")
        # A timeout (never with a staged byte) ends the frame under way, one rule for every
        # state that takes bytes (HUNT's input gets one term, ``timed_out & ~blocked``, not one
        # per state): an error (E_TIMEOUT) inside a frame, none in SKIP and DRAIN (that frame
        # was answered), and a sample being fed is dropped.
        in_frame = st["TYPE"] | st["LEN0"] | st["LEN1"] | st["SAMPLE"] | st["WEIGHTS"] | st["CHECK"]
        drop = timed_out & (st["SAMPLE"] | (st["CHECK"] & is_sample))
        with m.If(timed_out & ~blocked):
            m.d.sync += [st[name].eq(0) for name in STATES if name not in ("BOOT", "HUNT", "VERDICT", "WRITE", "ACK")]
            m.d.sync += st["HUNT"].eq(1)
            m.d.comb += [self.error.eq(in_frame), self.abort.eq(drop)]
        # A waiting beat is dropped only by that timeout: in VERDICT, the other abort, no beat
        # waits (the crc byte was handled with ``sample.valid`` low).
        m.d.comb += keep.eq(self.sample.valid & ~drop)
        self.internals = {"state": st, "byte": byte, "take": take, "here": here, "staged": staged,
                          "blocked": blocked, "timed_out": timed_out}
        return m
