"""PLL settings (computed, no tables) and the PLL instances of the open boards' FPGAs."""

from amaranth.hdl import Instance, Signal

__all__ = ["ice40_pll_params", "ecp5_pll_params", "ice40_pll", "ecp5_pll"]


def ice40_pll_params(f_in_mhz, f_out_mhz):
    """``(DIVR, DIVF, DIVQ, FILTER_RANGE, achieved MHz)`` of an iCE40 PLL in SIMPLE feedback,
    closest to ``f_out_mhz`` within the data-sheet ranges (PFD 10..133 MHz, VCO 533..1066 MHz),
    the search of IceStorm's icepll."""
    best = None
    for divr in range(16):
        pfd = f_in_mhz / (divr + 1)
        if not 10 <= pfd <= 133:
            continue
        for divf in range(128):
            vco = pfd * (divf + 1)
            if not 533 <= vco <= 1066:
                continue
            for divq in range(1, 7):
                f = vco / 2 ** divq
                if best is None or abs(f - f_out_mhz) < abs(best[4] - f_out_mhz):
                    rng = next(i for i, lim in enumerate((17, 26, 44, 66, 101, 1e9), start=1) if pfd < lim)
                    best = (divr, divf, divq, rng, f)
    if best is None:
        raise ValueError(f"no iCE40 PLL setting from {f_in_mhz} MHz to {f_out_mhz} MHz")
    return best


def ecp5_pll_params(f_in_mhz, f_out_mhz):
    """``(CLKI_DIV, CLKFB_DIV, CLKOP_DIV, achieved MHz)`` of an ECP5 EHXPLLL with CLKOP
    feedback, closest to ``f_out_mhz`` (PFD >= 3.125 MHz, VCO 400..800 MHz), as ecppll."""
    best = None
    for clki in range(1, 129):
        pfd = f_in_mhz / clki
        if pfd < 3.125:
            break
        for clkfb in range(1, 81):
            f = pfd * clkfb
            fits = [c for c in range(1, 129) if 400 <= f * c <= 800]
            if fits and (best is None or abs(f - f_out_mhz) < abs(best[3] - f_out_mhz)):
                clkop = min(fits, key=lambda c: abs(f * c - 600))      # VCO mid-range, as ecppll
                best = (clki, clkfb, clkop, f)
    if best is None:
        raise ValueError(f"no ECP5 PLL setting from {f_in_mhz} MHz to {f_out_mhz} MHz")
    return best


def _clock_net():
    """The PLL's output, named ``pll_clk`` and kept through synthesis: the place-and-route
    tools find the clock constraint by net name. Unnamed (``$signal``), nextpnr ignored it;
    named but not kept, Yosys merged it into the domain's ``clk`` it drives and dropped the
    name, with the same effect (nextpnr only derived the clock from the oscillator's)."""
    return Signal(name="pll_clk", attrs={"keep": 1})


def ice40_pll(pad, f_in_mhz, f_out_mhz):
    """SB_PLL40_PAD on the clock pad ``pad`` (an I/O port); returns ``(instance, clk, lock, MHz)``."""
    divr, divf, divq, rng, f = ice40_pll_params(f_in_mhz, f_out_mhz)
    clk, lock = _clock_net(), Signal(name="pll_lock")
    inst = Instance("SB_PLL40_PAD", p_FEEDBACK_PATH="SIMPLE", p_DIVR=divr, p_DIVF=divf, p_DIVQ=divq,
                    p_FILTER_RANGE=rng, i_PACKAGEPIN=pad, i_RESETB=1, i_BYPASS=0,
                    o_PLLOUTGLOBAL=clk, o_LOCK=lock)
    return inst, clk, lock, f


def ecp5_pll(clk_in, f_in_mhz, f_out_mhz):
    """EHXPLLL from ``clk_in``; returns ``(instance, clk, lock, MHz)``."""
    clki, clkfb, clkop, f = ecp5_pll_params(f_in_mhz, f_out_mhz)
    clk, lock = _clock_net(), Signal(name="pll_lock")
    inst = Instance("EHXPLLL", p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
                    p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
                    p_OUTDIVIDER_MUXC="DIVC", p_OUTDIVIDER_MUXD="DIVD", p_CLKI_DIV=clki, p_CLKOP_ENABLE="ENABLED",
                    p_CLKOP_DIV=clkop, p_CLKOP_CPHASE=clkop - 1, p_CLKOP_FPHASE=0, p_FEEDBK_PATH="CLKOP",
                    p_CLKFB_DIV=clkfb, a_FREQUENCY_PIN_CLKI=str(f_in_mhz), a_FREQUENCY_PIN_CLKOP=f"{f:.4f}",
                    i_RST=0, i_STDBY=0, i_CLKI=clk_in, o_CLKOP=clk, i_CLKFB=clk, o_CLKINTFB=Signal(),
                    i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1,
                    i_PLLWAKESYNC=0, i_ENCLKOP=0, o_LOCK=lock)
    return inst, clk, lock, f
