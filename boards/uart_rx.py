"""UART receiver, 8N1."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from spinaps.contract import check_int

__all__ = ["UartRx", "MIN_CLOCKS_PER_BIT", "MAX_CLOCKS_PER_BIT", "check_clocks_per_bit"]

#: Clock cycles per bit the UARTs support: at least 4 (the receiver samples mid-bit after a
#: 2-cycle synchronizer), at most a 24-bit counter.
MIN_CLOCKS_PER_BIT, MAX_CLOCKS_PER_BIT = 4, 1 << 24


def check_clocks_per_bit(value, why="clock frequency / baud rate; raise the clock or lower the baud"):
    """``value`` if it is a clocks-per-bit count the UARTs support, else a ``ValueError``."""
    return check_int("clocks_per_bit", value, MIN_CLOCKS_PER_BIT, MAX_CLOCKS_PER_BIT, why)


class UartRx(wiring.Component):
    """8N1 UART receiver: start bit, 8 data bits LSB first, one stop bit.

    ``rx`` goes through a 2-flop synchronizer (it comes from another clock domain, the
    host's). A falling edge starts a character; the start bit is checked at its middle
    (a glitch shorter than half a bit is ignored) and every data bit is sampled at its
    middle, ``clocks_per_bit`` cycles apart. A character whose stop bit is low (framing
    error, or a break) is dropped.

    Latency: ``data`` is valid 2 (synchronizer) + about 9.5 bit times after the start edge.
    Backpressure: ``data`` holds one byte; if it was not taken when the next byte completes,
    the new byte is dropped and ``overrun`` is high for one cycle.

    Parameters
    ----------
    clocks_per_bit : int
        Clock cycles per bit (clock frequency / baud rate), at least 4.
    """

    def __init__(self, clocks_per_bit):
        self.clocks_per_bit = check_clocks_per_bit(clocks_per_bit)
        super().__init__({
            "rx": In(1, init=1),
            "data": Out(stream.Signature(8)),
            "overrun": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, rx, init=1)
        cpb = self.clocks_per_bit
        timer = Signal(range(cpb))
        bits = Signal(range(9))
        shreg = Signal(8)
        # ``timer == 0`` while counting, as a register made a cycle ahead (``timer == 1``): the
        # 9-bit compare (at 48 MHz) stays out of the state machine's decisions (UP5K timing).
        # Every reload is at least 1 (cpb >= 4), and the flag is low out of IDLE.
        zero = Signal()
        counting = Signal()

        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        m.d.sync += self.overrun.eq(0)

        m.d.sync += zero.eq(counting & (timer == 1))
        with m.FSM() as fsm:
            with m.State("IDLE"):
                with m.If(~rx):
                    m.d.sync += timer.eq(cpb // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(zero):
                    m.d.sync += [timer.eq(cpb - 1), bits.eq(0)]
                    # Still low in the middle of the start bit: a real character.
                    with m.If(rx):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "DATA"
            with m.State("DATA"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(zero):
                    m.d.sync += [timer.eq(cpb - 1), shreg.eq(Cat(shreg[1:], rx)), bits.eq(bits + 1)]
                    with m.If(bits == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(zero):
                    with m.If(rx):
                        m.d.sync += self.data.payload.eq(shreg)
                        with m.If(self.data.valid & ~self.data.ready):
                            m.d.sync += [self.overrun.eq(1), self.data.payload.eq(self.data.payload)]
                        with m.Else():
                            m.d.sync += self.data.valid.eq(1)
                    m.next = "IDLE"
        # A plain expression, not an assignment in the FSM: Icarus would leave that X until
        # the state first changes.
        m.d.comb += counting.eq(~fsm.ongoing("IDLE"))
        return m
