"""Synapse memory: one interface, two implementations.

The layer engine reads synapse rows from a word-addressed memory of binary cells
(docs/semantics.md section 9: row ``r = i*K + k`` occupies ``Qn`` words starting at
``r*Qn``; a word holds ``P * b`` cells).  Two components implement the same
:class:`SynapseMemorySignature`:

* :class:`~spinaps.hdl.sram_memory.SramSynapseMemory`: one
  :class:`amaranth.lib.memory.Memory` with a synchronous read port and one write port; it
  maps to block RAM.  Read latency 1, a write every cycle.
* :class:`~spinaps.hdl.sttram_memory.SttRamSynapseMemory`: a behavioral model of a binary
  STT-RAM array with a configurable read latency (pipelined), a write that occupies the
  array for several cycles, an optional write-error model (simulation feature) and a
  write-error counter.

Both derive from :class:`~spinaps.hdl.synapse_memory_base.SynapseMemoryBase` (parameter
checks, the array, ``storage``). This module gathers them: :data:`MEMORY_KINDS` (the one
list of memory kinds, which the CLI offers) and :func:`make_synapse_memory`, which builds
either from its name, so the accelerator top can take the memory kind from the command line.

Interface summary (directions from the memory's point of view)::

    rd_en        In(1)           issue a read this cycle (allowed every cycle, no backpressure)
    rd_addr      In(addr_width)  word address of the read
    rd_valid     Out(1)          high exactly ``read_latency`` cycles after a cycle with rd_en
    rd_data      Out(data_width) the word read; meaningful only while rd_valid is high
    wr_valid     In(1)           a write is offered
    wr_addr      In(addr_width)  word address of the write
    wr_data      In(data_width)  word to write
    wr_ready     Out(1)          the write is accepted in a cycle with wr_valid & wr_ready
    reads        Out(32)         words read (reads issued), wraps at 2**32
    writes       Out(32)         words written (writes accepted), wraps at 2**32
    write_errors Out(32)         cells written wrong (STT-RAM error model; always 0 on SRAM)

Addresses ``>= depth`` (possible when ``depth`` is not a power of two) are outside the
contract: such a read returns an unspecified word and such a write has unspecified effect.
"""

import inspect

from spinaps.contract import check_choice

from .sram_memory import SramSynapseMemory
from .sttram_memory import SttRamSynapseMemory
from .synapse_memory_base import COUNTER_WIDTH, SynapseMemoryBase, SynapseMemorySignature

__all__ = [
    "COUNTER_WIDTH",
    "MEMORY_KINDS",
    "SynapseMemoryBase",
    "SynapseMemorySignature",
    "SramSynapseMemory",
    "SttRamSynapseMemory",
    "make_synapse_memory",
]


#: Memory kinds accepted by :func:`make_synapse_memory` (for argparse ``choices``).
MEMORY_KINDS = {
    "sram": SramSynapseMemory,
    "sttram": SttRamSynapseMemory,
}


def make_synapse_memory(kind, **kwargs):
    """Build a synapse memory from its kind name.

    Parameters
    ----------
    kind : str
        ``"sram"`` (:class:`SramSynapseMemory`) or ``"sttram"`` (:class:`SttRamSynapseMemory`).
    **kwargs
        Passed to the constructor (``data_width``, ``depth``, ``init``; for ``"sttram"`` also
        ``read_latency``, ``write_latency``, ``write_error_prob``, ``write_error_seed``).

    Raises
    ------
    ValueError
        If ``kind`` is unknown, or a parameter is out of range.
    TypeError
        If a keyword is not accepted by that kind (e.g. ``read_latency`` for ``"sram"``).
    """
    cls = MEMORY_KINDS[check_choice("kind", kind, tuple(MEMORY_KINDS))]
    accepted = inspect.signature(cls).parameters
    for name in kwargs:
        if name not in accepted:
            raise TypeError(f"a synapse memory of kind {kind!r} does not take parameter "
                            f"{name!r} (it takes {', '.join(accepted)})")
    return cls(**kwargs)
