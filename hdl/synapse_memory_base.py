"""What every synapse memory shares: its signature, its parameter checks and its array.

:class:`SynapseMemorySignature` is the interface (summary in
:mod:`spinaps.hdl.synapse_memory`); :class:`SynapseMemoryBase` validates ``data_width``,
``depth`` and ``init``, builds the array and the read counter, and reports the array's
storage. The implementations are :class:`~spinaps.hdl.sram_memory.SramSynapseMemory` and
:class:`~spinaps.hdl.sttram_memory.SttRamSynapseMemory`.
"""

from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from spinaps.contract import check_at_least, check_int

from .synth_hints import NO_RW_CHECK, registered_read

__all__ = ["COUNTER_WIDTH", "SynapseMemorySignature", "SynapseMemoryBase"]

#: Width of the access counters ``reads``, ``writes`` and ``write_errors`` (they wrap).
COUNTER_WIDTH = 32


def _check_init(init, data_width, depth):
    if init is None:
        return ()
    try:
        words = list(init)
    except TypeError:
        raise ValueError(f"init must be a list of integers (words), not {init!r}") from None
    if len(words) > depth:
        raise ValueError(f"init has {len(words)} words, more than depth = {depth}")
    for index, word in enumerate(words):
        check_int(f"init[{index}]", word, 0, (1 << data_width) - 1,
                  f"a word of data_width = {data_width} bits")
    return tuple(int(word) for word in words)


# --------------------------------------------------------------------------- signature

class SynapseMemorySignature(wiring.Signature):
    """Signature of a synapse memory, from the memory's point of view.

    A consumer (the layer engine) uses ``SynapseMemorySignature(addr_width, data_width).flip()``
    and ``wiring.connect`` works with either implementation.

    Parameters
    ----------
    addr_width : int
        Width of ``rd_addr`` and ``wr_addr`` (>= 1).
    data_width : int
        Width of a word, in binary cells (>= 1).

    Attributes
    ----------
    rd_en : In(1)
        Issue a read in this cycle. Reads are fully pipelined: one may be issued every cycle.
    rd_addr : In(addr_width)
        Word address of the read.
    rd_valid : Out(1)
        High in the cycle ``read_latency`` cycles after a cycle with ``rd_en`` high.
    rd_data : Out(data_width)
        The word read; meaningful only while ``rd_valid`` is high.
    wr_valid : In(1)
        A write is offered.
    wr_addr : In(addr_width)
        Word address of the write.
    wr_data : In(data_width)
        Word to write.
    wr_ready : Out(1)
        The memory accepts the offered write in a cycle with ``wr_valid & wr_ready``.
    reads : Out(32)
        Number of reads issued (cycles with ``rd_en``), modulo 2**32.
    writes : Out(32)
        Number of writes accepted, modulo 2**32.
    write_errors : Out(32)
        Number of cells that ended up with the wrong value, modulo 2**32 (always 0 on SRAM
        and on an STT-RAM model without errors).
    """

    def __init__(self, addr_width, data_width):
        check_at_least("addr_width", addr_width, 1)
        check_at_least("data_width", data_width, 1, "bits per word")
        self._addr_width = addr_width
        self._data_width = data_width
        super().__init__({
            "rd_en":        In(1),
            "rd_addr":      In(addr_width),
            "rd_valid":     Out(1),
            "rd_data":      Out(data_width),
            "wr_valid":     In(1),
            "wr_addr":      In(addr_width),
            "wr_data":      In(data_width),
            "wr_ready":     Out(1),
            "reads":        Out(COUNTER_WIDTH),
            "writes":       Out(COUNTER_WIDTH),
            "write_errors": Out(COUNTER_WIDTH),
        })

    @property
    def addr_width(self):
        return self._addr_width

    @property
    def data_width(self):
        return self._data_width

    def __eq__(self, other):
        # A flipped signature is a `wiring.FlippedSignature`, so it never equals an unflipped
        # one; two flipped signatures compare their unflipped forms through this method.
        return (type(other) is type(self) and
                other.addr_width == self.addr_width and
                other.data_width == self.data_width)

    def __hash__(self):
        return hash((type(self), self.addr_width, self.data_width))

    def __repr__(self):
        return f"SynapseMemorySignature({self.addr_width}, {self.data_width})"


# --------------------------------------------------------------------------- common part

class SynapseMemoryBase(wiring.Component):
    """Common part of the synapse memories: parameters, the array, the read counter.

    Parameters
    ----------
    data_width : int
        Word width in binary cells (>= 1).
    depth : int
        Number of words (>= 1).
    init : list of int or None
        Initial words (at most ``depth``; missing words are 0); each ``0 <= word < 2**data_width``.
    """

    def __init__(self, *, data_width, depth, init):
        check_at_least("data_width", data_width, 1, "bits per word")
        check_at_least("depth", depth, 1, "words")
        self.data_width = data_width
        self.depth = depth
        self.addr_width = max(1, ceil_log2(depth))
        self.init = _check_init(init, data_width, depth)
        super().__init__(SynapseMemorySignature(self.addr_width, self.data_width))

    @property
    def storage(self):
        """``{"array": ("bram", depth * data_width)}``: the binary cells of the array.

        The array has a synchronous read port, so it maps to block RAM on an FPGA, for the
        SRAM and the STT-RAM model alike; which cell technology it stands for is the memory
        kind (:data:`spinaps.hdl.synapse_memory.MEMORY_KINDS`). Read pipelines, counters and
        write buffers are not storage. Subclasses add what else they hold.
        """
        return {"array": ("bram", self.depth * self.data_width)}

    def _array(self, *, reads_meet_writes=False):
        """The array. Unless ``reads_meet_writes``, it is marked
        :data:`~spinaps.hdl.synth_hints.NO_RW_CHECK` (see :meth:`_read`)."""
        self._no_rw_check = not reads_meet_writes
        return Memory(shape=self.data_width, depth=self.depth, init=self.init,
                      attrs=NO_RW_CHECK if self._no_rw_check else None)

    def _read(self, m, array, en, addr):
        """A synchronous, non-transparent read of ``array`` (data the cycle after ``en``, the
        word before a write in the same cycle): its data signal. An array whose reads never
        meet a write (the accelerator writes synapses only between inferences,
        hdl/accelerator.py) is read through :func:`~spinaps.hdl.synth_hints.registered_read`,
        so that Yosys adds no collision logic (a 48 MHz critical path of the UP5K);
        simulation reads the old word either way."""
        if self._no_rw_check:
            port = registered_read(m, array, "rd")
        else:
            port = array.read_port(domain="sync", transparent_for=())
        m.d.comb += [port.en.eq(en), port.addr.eq(addr)]
        return port.data

    def _elaborate_read_counter(self, m):
        m.d.sync += self.reads.eq(self.reads + self.rd_en)
