"""UART transmitter, 8N1."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .uart_rx import check_clocks_per_bit

__all__ = ["UartTx"]


class UartTx(wiring.Component):
    """8N1 UART transmitter: start bit, 8 data bits LSB first, one stop bit.

    ``tx`` is a register (no glitches on the pin) and idles high.

    Latency: the start bit goes out the cycle after a byte is taken; a byte takes
    ``10 * clocks_per_bit`` cycles. Backpressure: ``data.ready`` is high only while idle, so
    a byte waits in the producer until the previous one has finished its stop bit.

    Parameters
    ----------
    clocks_per_bit : int
        Clock cycles per bit (clock frequency / baud rate), at least 4.
    """

    def __init__(self, clocks_per_bit):
        self.clocks_per_bit = check_clocks_per_bit(clocks_per_bit)
        super().__init__({
            "data": In(stream.Signature(8)),
            "tx": Out(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        cpb = self.clocks_per_bit
        timer = Signal(range(cpb))
        bits = Signal(range(11))
        shreg = Signal(10)
        # ``bits == 0`` and ``timer == 0`` as registers kept with the counters: ``ready`` and
        # the bit clock come from flip-flops, not compares (the responder's state machine
        # and byte mux wait for ``ready``; UP5K at 48 MHz). Every reload is at least 3.
        idle = Signal(init=1)
        zero = Signal()
        m.d.comb += self.data.ready.eq(idle)
        with m.If(idle):
            with m.If(self.data.valid):
                # Stop bit, data, start bit (sent LSB first).
                frame = Cat(Const(0, 1), self.data.payload, Const(1, 1))
                m.d.sync += [shreg.eq(frame >> 1), self.tx.eq(0), timer.eq(cpb - 1), zero.eq(0), bits.eq(10),
                             idle.eq(0)]
        with m.Elif(zero):
            m.d.sync += [timer.eq(cpb - 1), zero.eq(0), bits.eq(bits - 1), shreg.eq(shreg >> 1)]
            with m.If(bits == 1):
                m.d.sync += [self.tx.eq(1), idle.eq(1)]
            with m.Else():
                m.d.sync += self.tx.eq(shreg[0])
        with m.Else():
            m.d.sync += [timer.eq(timer - 1), zero.eq(timer == 1)]
        return m
