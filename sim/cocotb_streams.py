"""cocotb drivers for Amaranth ``lib.stream`` ports in generated Verilog.

An Amaranth stream member ``<name>`` of a component appears in its Verilog as the ports
``<name>__valid``, ``<name>__ready`` and ``<name>__payload``. Payloads are plain ints here:
build and decode them with ``spinaps.hdl.layouts.pack`` / ``unpack`` and the component's
layout, never with hand-written bit offsets. (The Amaranth-simulator counterpart is
``spinaps.sim.amaranth_streams``.)

Timing convention, shared by both classes: a coroutine calls ``send`` / ``collect`` just after
a rising edge of ``clk`` (e.g. after ``await RisingEdge(clk)`` or ``await ClockCycles(clk, n)``)
and they return just after a rising edge, so calls can follow each other without losing a
cycle. Inputs are written after the edge; the handshake is sampled in the ``ReadOnly`` phase
of the same cycle, when every combinational path has settled; a beat is transferred in a
cycle in which ``valid`` and ``ready`` are both high (at the edge that ends that cycle).

These drivers do Python work every cycle (about 5k cycles/s on Icarus): use them for short
component tests, not for long runs: the end-to-end harness (sim/harness.py) keeps stimulus and
collection in hardware and runs far faster (no Python per cycle).
"""

import random

from cocotb.triggers import ReadOnly, RisingEdge

__all__ = ["StreamSource", "StreamSink", "port", "value_or_none"]


def port(dut, name):
    """The handle of port ``name`` of ``dut``, or ``None`` when the design has no such port."""
    try:
        return getattr(dut, name)
    except AttributeError:
        return None


def value_or_none(handle):
    """The current value of ``handle`` as an int, or ``None`` when it holds X or Z bits."""
    try:
        return int(handle.value)
    except ValueError:
        return None


class StreamSource:
    """Drives an input stream ``<name>`` of ``dut`` (the DUT consumes, we produce).

    A port without ``<name>__ready`` (an ``always_ready`` stream exported without it) is
    treated as always ready. ``valid`` starts low.
    """

    def __init__(self, dut, name, clk):
        self.name = name
        self.clk = clk
        self.valid = getattr(dut, f"{name}__valid")
        self.payload = getattr(dut, f"{name}__payload")
        self.ready = port(dut, f"{name}__ready")
        self.valid.value = 0
        self.sent = 0

    async def send(self, payloads, stall_prob=0.0, rng=None, timeout_cycles=100_000):
        """Send every payload (ints) in order, honouring ``ready``.

        Before each beat, ``valid`` is held low for a random number of cycles (each extra
        cycle with probability ``stall_prob``). Once ``valid`` is high, ``valid`` and
        ``payload`` stay unchanged until the beat is taken. ``valid`` is low on return.
        Raises ``TimeoutError`` when one beat waits more than ``timeout_cycles`` cycles.
        """
        rng = rng or random.Random(0)
        for p in payloads:
            while rng.random() < stall_prob:
                self.valid.value = 0
                await RisingEdge(self.clk)
            self.valid.value = 1
            self.payload.value = int(p)
            for _ in range(timeout_cycles):
                await ReadOnly()
                taken = self.ready is None or value_or_none(self.ready) == 1
                await RisingEdge(self.clk)
                if taken:
                    break
            else:
                raise TimeoutError(f"{self.name}: beat {self.sent} not taken in {timeout_cycles} cycles")
            self.sent += 1
        self.valid.value = 0


class StreamSink:
    """Takes beats from an output stream ``<name>`` of ``dut`` with random ``ready`` stalls.

    ``ready`` starts low, is driven only inside :meth:`collect` and is low again on return.
    """

    def __init__(self, dut, name, clk):
        self.name = name
        self.clk = clk
        self.valid = getattr(dut, f"{name}__valid")
        self.payload = getattr(dut, f"{name}__payload")
        self.ready = getattr(dut, f"{name}__ready")
        self.ready.value = 0

    async def collect(self, count=None, until=None, stall_prob=0.0, rng=None, timeout_cycles=100_000):
        """Collect payloads (ints) until ``count`` beats or the beat for which ``until(p)`` holds.

        In every cycle ``ready`` is low with probability ``stall_prob``. With neither
        ``count`` nor ``until`` it collects for ``timeout_cycles`` cycles and returns what
        came; otherwise it raises ``TimeoutError`` after ``timeout_cycles`` cycles.
        """
        if count == 0:
            return []
        rng = rng or random.Random(1)
        out = []
        for _ in range(timeout_cycles):
            ready = rng.random() >= stall_prob
            self.ready.value = int(ready)
            await ReadOnly()
            beat = None
            if ready and value_or_none(self.valid) == 1:
                beat = value_or_none(self.payload)
                if beat is None:
                    raise ValueError(f"{self.name}: payload has X/Z bits in a valid beat "
                                     f"({self.payload.value})")
            await RisingEdge(self.clk)
            if beat is not None:
                out.append(beat)
                if (count is not None and len(out) == count) or (until is not None and until(beat)):
                    self.ready.value = 0
                    return out
        self.ready.value = 0
        if count is None and until is None:
            return out
        raise TimeoutError(f"{self.name}: got {len(out)} beats in {timeout_cycles} cycles")
