"""Board tops: iCEBreaker (iCE40 UP5K), ULX3S-85F (ECP5) and Arty A7-35 (plan only)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal
from amaranth.lib import io

from .board_core import BoardCore
from .pll import ecp5_pll, ice40_pll

__all__ = ["BOARDS", "Board", "BoardTop"]


@dataclass(frozen=True)
class Board:
    name: str
    platform: str               # "module:Class" in amaranth_boards
    family: str                 # ice40 | ecp5 | xc7
    core_mhz: float | None      # default core clock through the PLL (None: the oscillator)
    loader_board: str           # openFPGALoader -b
    open_flow: bool             # bitstream through Yosys + nextpnr here

    def platform_class(self):
        module, cls = self.platform.split(":")
        return getattr(importlib.import_module(module), cls)


BOARDS = {
    # Core clocks through the PLL, below the Fmax nextpnr reached for the digits model with its
    # link (seed 1, bench/results/boards.md): iCE40 33.9 MHz (default export; the 12 MHz
    # oscillator leaves speed unused), ECP5 112 MHz (default) and 123 MHz (2 lanes).
    # 50 MHz on the ECP5 leaves room for the larger models (mnist5k hybrid: 70 MHz).
    "icebreaker": Board("icebreaker", "amaranth_boards.icebreaker:ICEBreakerPlatform", "ice40", 24.0,
                        "ice40_generic", True),
    "ulx3s": Board("ulx3s", "amaranth_boards.ulx3s:ULX3S_85F_Platform", "ecp5", 50.0, "ulx3s", True),
    "arty": Board("arty", "amaranth_boards.arty_a7:ArtyA7_35Platform", "xc7", None, "arty_a7_35t", False),
}


def board(name):
    if name not in BOARDS:
        raise ValueError(f"board {name!r} is not one of {', '.join(BOARDS)}")
    return BOARDS[name]


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
    """

    def __init__(self, board_name, model, *, baud=115200, core_mhz="default", memory="sram", timeout_s=0.05,
                 sim_clocks_per_bit=4, sim_timeout_bits=64):
        self.board = board(board_name)
        self.model, self.baud, self.memory, self.timeout_s = model, int(baud), memory, timeout_s
        self.core_mhz = self.board.core_mhz if core_mhz == "default" else core_mhz
        self.sim_clocks_per_bit, self.sim_timeout_bits = sim_clocks_per_bit, sim_timeout_bits
        self.clock_mhz = None          # known after elaboration for a platform
        self.core = None

    def sim_core(self):
        return BoardCore(self.model, clocks_per_bit=self.sim_clocks_per_bit, timeout_bits=self.sim_timeout_bits,
                         memory=self.memory)

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
        if cpb < 4 or abs(f * 1e6 / cpb / self.baud - 1) > 0.02:
            raise ValueError(f"baud {self.baud} is not within 2 % of {f:.3f} MHz / an integer >= 4; "
                             "pick another --baud")
        self.core = BoardCore(self.model, clocks_per_bit=cpb, timeout_bits=max(20, round(self.timeout_s * self.baud)),
                              memory=self.memory)
        m.submodules.core = self.core
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buf = rx_buf = io.Buffer("i", uart.rx)
        m.submodules.tx_buf = tx_buf = io.Buffer("o", uart.tx)
        m.d.comb += [self.core.rx.eq(rx_buf.i), tx_buf.o.eq(self.core.tx)]
        for index in range(2):
            m.submodules[f"led{index}"] = led = io.Buffer("o", platform.request("led", index, dir="-"))
            m.d.comb += led.o.eq(self.core.leds[index])
        return m
