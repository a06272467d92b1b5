"""Synapse memory in SRAM: one block-RAM array, read latency 1, a write every cycle."""

from amaranth.hdl import Module

from .synapse_memory_base import SynapseMemoryBase

__all__ = ["SramSynapseMemory"]


class SramSynapseMemory(SynapseMemoryBase):
    """Synapse memory in SRAM (block RAM).

    One :class:`~amaranth.lib.memory.Memory` with one synchronous, non-transparent read port
    and one write port, plus the access counters.

    **Latency and backpressure.**

    * Read: a read may be issued every cycle (``rd_en``); the word appears on ``rd_data`` with
      ``rd_valid = 1`` exactly ``read_latency = 1`` cycle later. No backpressure.
    * Write: ``wr_ready`` is always 1; the word is written at the clock edge ending the cycle
      with ``wr_valid`` (``write_latency = 1``: one write per cycle).
    * A read issued in the same cycle as a write to the same address returns the OLD word;
      a read issued in any later cycle returns the new word.
    * ``write_errors`` is constant 0 (it exists so both implementations share one signature).

    Parameters
    ----------
    data_width : int
        Word width in binary cells (>= 1).
    depth : int
        Number of words (>= 1).
    init : list of int, optional
        Initial words (at most ``depth``; missing words are 0); each ``0 <= word < 2**data_width``.

    Attributes
    ----------
    addr_width : int
        ``max(1, ceil(log2(depth)))``.
    read_latency : int
        Always 1.
    write_latency : int
        Always 1 (cycles a write occupies the array).
    init : tuple of int
        The validated initial words.

    Raises
    ------
    ValueError
        If a parameter is out of range; the message names the parameter and its value.
    """

    read_latency = 1
    write_latency = 1

    def __init__(self, *, data_width, depth, init=None):
        super().__init__(data_width=data_width, depth=depth, init=init)

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = self._array()

        m.d.comb += self.rd_data.eq(self._read(m, array, self.rd_en, self.rd_addr))
        m.d.sync += self.rd_valid.eq(self.rd_en)

        wr_port = array.write_port(domain="sync")
        m.d.comb += [
            self.wr_ready.eq(1),
            wr_port.en.eq(self.wr_valid),
            wr_port.addr.eq(self.wr_addr),
            wr_port.data.eq(self.wr_data),
        ]

        self._elaborate_read_counter(m)
        m.d.sync += self.writes.eq(self.writes + self.wr_valid)
        return m
