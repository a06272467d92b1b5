"""Board tops: iCEBreaker (iCE40 UP5K), ULX3S-85F (ECP5) and Arty A7-35 (plan only).

The boards themselves (platform, family, default clock) are listed in
:mod:`spinaps.boards.catalog`; ``BOARDS``, ``Board`` and ``board`` are re-exported here.
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal
from amaranth.lib import io

from spinaps.hdl.accelerator import schedule_of

from . import protocol as p
from .board_core import BoardCore
from .catalog import BOARDS, Board, board
from .pll import ecp5_pll, ice40_pll
from .uart_rx import MIN_CLOCKS_PER_BIT

__all__ = ["BOARDS", "Board", "BoardTop", "board"]


class BoardTop(Elaboratable):
    """The accelerator of ``model`` with its UART link on board ``board_name``.

    With a platform: the optional PLL (``core_mhz``; ``None`` keeps the oscillator), the
    ``uart`` resource on the core's ``rx`` / ``tx``, LEDs 0 and 1 on its ``leds``.
    ``elaborate(None)`` returns the same :class:`BoardCore` with ``sim_clocks_per_bit`` clocks
    per bit and ``sim_timeout_bits``, for cocotb (a fast UART keeps simulations short).

    Parameters
    ----------
    board_name : str
        ``icebreaker``, ``ulx3s`` or ``arty``.
    model : spinaps.sw.golden.GoldenModel
    baud : int
        Line rate; the clocks per bit are rounded and must be within 2 % of it.
    core_mhz : float or None
        Core clock; default: the board's ``core_mhz``.
    timeout_s : float
        Idle line inside a frame that counts as truncated (longer than a USB-serial
        adapter's latency, 16 ms for FTDI chips).
    window, adders : int or sequence of int
        The accelerator's window schedule (one number or one per layer; :class:`BoardCore`).
    """

    def __init__(self, board_name, model, *, baud=115200, core_mhz="default", memory="sram", timeout_s=0.05,
                 sim_clocks_per_bit=4, sim_timeout_bits=64, window=1, adders=1):
        self.board = board(board_name)
        self.model, self.baud, self.memory, self.timeout_s = model, int(baud), memory, timeout_s
        schedule_of(window, adders, len(model.layers))      # a bad schedule fails before elaboration
        self.schedule = dict(window=window, adders=adders)
        self.core_mhz = self.board.core_mhz if core_mhz == "default" else core_mhz
        self.sim_clocks_per_bit, self.sim_timeout_bits = sim_clocks_per_bit, sim_timeout_bits
        self.clock_mhz = None          # known after elaboration for a platform
        self.core = None

    def sim_core(self):
        return BoardCore(self.model, clocks_per_bit=self.sim_clocks_per_bit, timeout_bits=self.sim_timeout_bits,
                         memory=self.memory, **self.schedule)

    def elaborate(self, platform):
        if platform is None:
            self.core = self.sim_core()
            return self.core
        m = Module()
        f_in = platform.default_clk_frequency / 1e6
        f = f_in
        if self.core_mhz is not None and abs(self.core_mhz - f_in) > 1e-6:
            m.domains.sync = ClockDomain("sync")
            if self.board.family == "ice40":
                pad = platform.request(platform.default_clk, dir="-")
                inst, clk, lock, f = ice40_pll(pad.io, f_in, self.core_mhz)
            elif self.board.family == "ecp5":
                m.submodules.clk_buf = clk_buf = io.Buffer("i", platform.request(platform.default_clk, dir="-"))
                inst, clk, lock, f = ecp5_pll(clk_buf.i, f_in, self.core_mhz)
            else:
                raise ValueError(f"no PLL for {self.board.name} here; use core_mhz=None")
            m.submodules.pll = inst
            m.d.comb += [ClockSignal("sync").eq(clk), ResetSignal("sync").eq(~lock)]
            platform.add_clock_constraint(clk, f * 1e6)
        self.clock_mhz = f
        cpb = round(f * 1e6 / self.baud)
        if cpb < MIN_CLOCKS_PER_BIT or abs(f * 1e6 / cpb / self.baud - 1) > 0.02:
            raise ValueError(f"baud {self.baud} is not within 2 % of {f:.3f} MHz / an integer >= "
                             f"{MIN_CLOCKS_PER_BIT}; pick another --baud")
        timeout_bits = max(p.MIN_TIMEOUT_BITS, round(self.timeout_s * self.baud))
        self.core = BoardCore(self.model, clocks_per_bit=cpb, timeout_bits=timeout_bits, memory=self.memory,
                              **self.schedule)
        m.submodules.core = self.core
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buf = rx_buf = io.Buffer("i", uart.rx)
        m.submodules.tx_buf = tx_buf = io.Buffer("o", uart.tx)
        m.d.comb += [self.core.rx.eq(rx_buf.i), tx_buf.o.eq(self.core.tx)]
        for index in range(2):
            m.submodules[f"led{index}"] = led = io.Buffer("o", platform.request("led", index, dir="-"))
            m.d.comb += led.o.eq(self.core.leds[index])
        return m
