"""The boards spinaps builds for: the one list the CLI, the builds and the docs read.

Pure data (no Amaranth import), so that listing the boards, e.g. for the CLI's choices,
loads nothing heavy; ``Board.platform_class`` imports the Amaranth platform when a build
needs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["BOARDS", "Board", "board"]


@dataclass(frozen=True)
class Board:
    """One board: its Amaranth platform, FPGA family, default core clock and programmer."""

    name: str
    platform: str               # "module:Class" in amaranth_boards
    family: str                 # ice40 | ecp5 | xc7
    core_mhz: float | None      # default core clock through the PLL (None: the oscillator)
    loader_board: str           # openFPGALoader -b
    open_flow: bool             # bitstream through Yosys + nextpnr here
    target: str                 # its FPGA in spinaps.toolchain.TARGETS (synthesis options, capacities)

    def platform_class(self):
        module, cls = self.platform.split(":")
        return getattr(importlib.import_module(module), cls)


BOARDS = {
    # Core clocks through the PLL, below the Fmax nextpnr reached for the digits model with its
    # link (bench/results/boards.md): iCE40 44.5 MHz (default export, seed 1; the 12 MHz
    # oscillator leaves speed unused; the 2-lane export meets 48 MHz with --seed 1-4), ECP5
    # 110 MHz (default) and 127 MHz (2 lanes). 50 MHz on the ECP5 leaves room for the larger
    # models (mnist5k hybrid: 70 MHz).
    "icebreaker": Board("icebreaker", "amaranth_boards.icebreaker:ICEBreakerPlatform", "ice40", 24.0,
                        "ice40_generic", True, "ice40up5k"),
    "ulx3s": Board("ulx3s", "amaranth_boards.ulx3s:ULX3S_85F_Platform", "ecp5", 50.0, "ulx3s", True, "ecp5-85f"),
    "arty": Board("arty", "amaranth_boards.arty_a7:ArtyA7_35Platform", "xc7", None, "arty_a7_35t", False, "xc7a35t"),
}


def board(name):
    """The :class:`Board` called ``name``; a ``ValueError`` naming the boards otherwise."""
    if name not in BOARDS:
        raise ValueError(f"board {name!r} is not one of {', '.join(BOARDS)}")
    return BOARDS[name]
