"""Shared pieces of the formal harnesses (tests/formal): elaborate a component so its
``internals`` exist, the valid/ready source rule as assertions, a run-length counter, and
one call that converts a harness to RTLIL and runs SymbiYosys on it.

A harness is an ``Elaboratable`` whose free inputs are ``AnySeq``/``AnyConst`` and whose
reset is held only in the first cycle (``Assume(ResetSignal() == Initial())``), so every
trace starts from the component's reset state and then runs with any inputs.
"""

from pathlib import Path

from amaranth.asserts import Initial
from amaranth.back import rtlil
from amaranth.hdl import Assert, Assume, Fragment, ResetSignal, Signal, Value

from spinaps.toolchain import prove

__all__ = ["elaborated", "reset_once", "source_rule", "run_length", "run_sby"]


def elaborated(m, name, dut):
    """Add ``dut`` to ``m`` elaborated now, so the harness can read the ``internals`` its
    ``elaborate`` records (a harness is elaborated before its submodules otherwise)."""
    m.submodules[name] = Fragment.get(dut, None)
    return dut


def reset_once(m):
    """Reset in the first cycle only: traces start from the reset state."""
    m.d.comb += Assume(ResetSignal() == Initial())


def source_rule(m, stream, *, name, dropped=None):
    """Assert the valid/ready rule on a stream the component drives: once ``valid`` is high
    and not taken, it stays high with the same payload next cycle. ``dropped`` (a 1-bit
    value) names the one documented exception (an abort), if any."""
    payload = Value.cast(stream.payload)
    stalled = Signal(name=f"{name}_stalled")
    held = Signal(len(payload), name=f"{name}_held")
    m.d.sync += [stalled.eq(stream.valid & ~stream.ready & (1 if dropped is None else ~dropped)),
                 held.eq(payload)]
    with m.If(stalled):
        m.d.comb += [Assert(stream.valid), Assert(payload == held)]


def run_length(m, cond, *, name, width=6):
    """Consecutive earlier cycles in which ``cond`` held (saturating): the "ready was high
    for N cycles" of the bounded-liveness properties."""
    run = Signal(width, name=name)
    with m.If(cond):
        with m.If(run != (1 << width) - 1):
            m.d.sync += run.eq(run + 1)
    with m.Else():
        m.d.sync += run.eq(0)
    return run


def run_sby(harness, name, *, depth, mode, tmp_path):
    """Convert ``harness`` (top module ``top``) and run SymbiYosys on it in ``tmp_path``
    (:func:`spinaps.toolchain.prove`); returns its :class:`~spinaps.toolchain.ProofResult`."""
    text = rtlil.convert(harness, name="top", ports=[])
    return prove(text, name, depth=depth, mode=mode, work_dir=Path(tmp_path))
