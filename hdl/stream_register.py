"""A register slice for a valid/ready stream (a skid buffer)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["StreamRegister"]


class StreamRegister(wiring.Component):
    """Cuts every combinational path through a stream: ``o.valid``/``o.payload`` and
    ``i.ready`` all come from flip-flops, so the producer's and the consumer's logic no
    longer add up in one clock period.

    Latency: a beat taken on ``i`` is offered on ``o`` the next cycle. Backpressure: full
    throughput (one beat per cycle) while ``o`` is ready; when ``o`` stalls, one beat in
    flight is kept in a second (skid) register and ``i.ready`` falls a cycle later, so no
    beat is lost or reordered.

    After elaboration, ``internals`` names the skid register (``skid_valid``, ``skid``) for
    the formal proof (tests/formal); nothing is added to the design.
    """

    def __init__(self, layout):
        self._layout = layout
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))})

    def elaborate(self, platform):
        m = Module()
        skid_valid = Signal()
        skid = Signal(self._layout)
        m.d.comb += self.i.ready.eq(~skid_valid)
        with m.If(self.o.ready | ~self.o.valid):
            # The output register is free this cycle: refill it, from the skid first.
            with m.If(skid_valid):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(skid), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [self.o.valid.eq(self.i.valid), self.o.payload.eq(self.i.payload)]
        with m.Elif(self.i.valid & ~skid_valid):
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        self.internals = {"skid_valid": skid_valid, "skid": skid}
        return m
