"""Responder of the board link: results, info, acknowledgements and errors out as frames."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps.hdl.priority import any_of

from . import protocol as p
from .crc8 import crc8_next
from .one_hot import OneHot

__all__ = ["Responder"]


def _zext(value, bits):
    value = value.as_value() if hasattr(value, "as_value") else value
    if len(value) > bits:
        raise ValueError(f"a {len(value)}-bit field does not fit the {bits}-bit protocol field")
    return Cat(value, Const(0, bits - len(value))) if len(value) < bits else value


class Responder(wiring.Component):
    """Serializes answers to the host as frames (docs/link.md) into ``bytes`` (the UART).

    Answers, in priority order when several wait: an error frame (``error`` strobe with
    ``error_code``), an acknowledgement (``ack``), the info frame (``info``, a constant
    built from ``info``), a result (from the accelerator's ``result`` stream). One of each
    kind can wait; a second error strobe while one waits is dropped (the host sees the
    first). A result frame carries class, decision step, decided flag, cycles and per layer
    events, synaptic operations and busy cycles (:func:`spinaps.boards.protocol.encode_result`).

    Latency: the sync byte is offered two cycles after the answer is picked (the frame is
    loaded in between); a frame is ``5 + payload`` bytes. Backpressure: ``result.ready`` is
    high for one cycle when a result is latched (the accelerator can then start the next sample while the frame is
    sent); ``bytes`` waits on its ``ready``.

    Parameters
    ----------
    result_layout : StructLayout
        The accelerator's result payload (``spinaps.hdl.layouts.result_layout``).
    n_layers : int
    info : spinaps.boards.protocol.Info
        What the ping answers.
    """

    def __init__(self, *, result_layout, n_layers, info):
        self.n_layers = n_layers
        self.info_payload = p.encode_info(info)
        self.result_len = p.result_bytes(n_layers)
        super().__init__({
            "result": In(stream.Signature(result_layout)),
            "error": In(1),
            "error_code": In(8),
            "info": In(1),
            "ack": In(1),
            "bytes": Out(stream.Signature(8)),
        })

    def elaborate(self, platform):
        m = Module()
        pend_err, pend_ack, pend_info = Signal(name="pend_err"), Signal(name="pend_ack"), Signal(name="pend_info")
        code, frame_code = Signal(8), Signal(8)
        err_taken = Signal()
        max_len = max(self.result_len, len(self.info_payload), 1)
        shreg = Signal(8 * (3 + max_len))        # type, length, payload (sync and crc apart)
        remaining = Signal(range(4 + max_len))
        crc = Signal(8)
        final = Signal()          # remaining == 1, as a register (UP5K timing)

        def header(ftype, n):
            return [Const(ftype, 8), Const(n, 16)]

        r = self.result.payload
        result_fields = [_zext(r.cls, 16), _zext(r.step, 16), _zext(r.decided, 8), _zext(r.cycles, 32)]
        for index in range(self.n_layers):
            result_fields += [_zext(r.events[index], 32), _zext(r.sops[index], 32), _zext(r.busy[index], 32)]
        info = Const(int.from_bytes(self.info_payload, "little"), 8 * len(self.info_payload))
        # The answer picked, one flag per kind, high for the one cycle its frame is loaded (a
        # cycle after the pick): registered selects keep the pick's priority logic out of the
        # wide shift register's load (UP5K timing, nextpnr).
        load = {kind: Signal(name=f"load_{kind}") for kind in ("err", "ack", "info", "result")}
        frames = {
            "err": (Cat(*header(p.T_ERROR, 1), frame_code), 4),
            "ack": (Cat(*header(p.T_ACK, 0)), 3),
            "info": (Cat(*header(p.T_INFO, len(self.info_payload)), info), 3 + len(self.info_payload)),
            "result": (Cat(*header(p.T_RESULT, self.result_len), *result_fields), 3 + self.result_len),
        }
        loading = any_of(list(load.values()))
        shift = Signal()

        # One-hot states (UP5K at 48 MHz: the encoded state's decode in front of the pick made
        # the state register's enable five LUT levels deep).
        fsm = OneHot(m, ("BOOT", "IDLE", "LOAD", "SYNC", "BODY", "CRC"), prefix="resp_")
        st, go = fsm.states, fsm.go
        # One cycle out of reset: the state registers change once, so that Icarus evaluates
        # every combinational block that reads them (it would otherwise leave them X until
        # the first real transition, which then never comes).
        with m.If(st["BOOT"]):
            go("BOOT", "IDLE")
        with m.If(st["IDLE"]):
            m.d.sync += crc.eq(0)
            with m.If(pend_err | pend_ack | pend_info | self.result.valid):
                go("IDLE", "LOAD")
            with m.If(pend_err):
                m.d.sync += [load["err"].eq(1), frame_code.eq(code), pend_err.eq(0)]
                m.d.comb += err_taken.eq(1)
            with m.Elif(pend_ack):
                m.d.sync += [load["ack"].eq(1), pend_ack.eq(0)]
            with m.Elif(pend_info):
                m.d.sync += [load["info"].eq(1), pend_info.eq(0)]
            with m.Elif(self.result.valid):
                m.d.sync += load["result"].eq(1)
        with m.If(st["LOAD"]):
            # The result is taken here, as it is loaded (it stays valid until taken).
            m.d.comb += self.result.ready.eq(load["result"])
            m.d.sync += [flag.eq(0) for flag in load.values()]
            go("LOAD", "SYNC")
        with m.If(st["SYNC"]):
            m.d.comb += [self.bytes.valid.eq(1), self.bytes.payload.eq(p.SYNC)]
            with m.If(self.bytes.ready):
                go("SYNC", "BODY")
        with m.If(st["BODY"]):
            m.d.comb += [self.bytes.valid.eq(1), self.bytes.payload.eq(shreg[:8]), shift.eq(self.bytes.ready)]
            with m.If(self.bytes.ready):
                m.d.sync += crc.eq(crc8_next(crc, shreg[:8]))
                with m.If(final):
                    go("BODY", "CRC")
        with m.If(st["CRC"]):
            m.d.comb += [self.bytes.valid.eq(1), self.bytes.payload.eq(crc)]
            with m.If(self.bytes.ready):
                go("CRC", "IDLE")

        # Load and shift as one OR: a frame is zero-extended to the register and shifted out
        # completely (``remaining`` bytes), so the register is all zeros while a frame is
        # loaded, and the load flags are low while it shifts.
        with m.If(loading | shift):
            m.d.sync += shreg.eq(any_of([Mux(load[k], f, 0) for k, (f, _) in frames.items()]) | (shreg >> 8))
        with m.If(loading):
            m.d.sync += [remaining.eq(any_of([Mux(load[k], n, 0) for k, (_, n) in frames.items()])),
                         final.eq(0)]          # every frame has a type and a length
        with m.Elif(shift):
            m.d.sync += [remaining.eq(remaining - 1), final.eq(remaining == 2)]

        # New requests last, so a strobe in the cycle a pending one is picked is kept.
        with m.If(self.error & (~pend_err | err_taken)):
            m.d.sync += [pend_err.eq(1), code.eq(self.error_code)]
        with m.If(self.ack):
            m.d.sync += pend_ack.eq(1)
        with m.If(self.info):
            m.d.sync += pend_info.eq(1)
        return m
