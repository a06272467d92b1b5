"""Hints that keep Yosys's iCE40 mapping of a path as short as its logic: signals kept as LUT
outputs, and block RAM reads without read-during-write logic (48 MHz on the UP5K)."""

from types import SimpleNamespace

from amaranth.hdl import Signal
from amaranth.lib import memory

__all__ = ["KEEP", "NO_RW_CHECK", "registered_read", "write_back_memory"]

#: Attributes of a signal that Yosys keeps (the output of a LUT), so that ABC9, which counts
#: no routing, cannot map the logic around it into a deeper chain of LUTs.
KEEP = {"keep": 1}

#: Attributes of a memory whose read and write ports never use the same address in the
#: same cycle (read through :func:`registered_read`): Yosys then adds no read-during-write
#: logic.
NO_RW_CHECK = {"no_rw_check": 1}


def registered_read(m, mem, name):
    """A synchronous, non-transparent read port of ``mem`` (``addr``, ``en``, ``data`` as
    ``mem.read_port()``'s) built from an asynchronous read and a register, which Yosys merges
    into the block RAM's port. Only for a memory with :data:`NO_RW_CHECK` (no read of a word
    being written): Yosys then adds no collision logic, whereas for a synchronous port it
    emulates the old-data read with an address compare after the read address (on the iCE40
    that compare closed a path past 48 MHz, Yosys estimate)."""
    port = mem.read_port(domain="comb")
    # (reset_less: a reset on the register would add logic after the block RAM's output)
    out = SimpleNamespace(addr=port.addr, en=Signal(name=f"{name}_en"),
                          data=Signal(mem.shape, name=f"{name}_data", reset_less=True))
    with m.If(out.en):
        m.d.sync += out.data.eq(port.data)
    return out


def write_back_memory(m, name, width, groups):
    """A per-group state memory read one group ahead and written back when the group is
    taken, as ``(memory, write port, read port)``. With a single group the next read is the
    word written this cycle (a transparent port); with more, the read (next group) and the
    write (this one) never share an address (:func:`registered_read`)."""
    mem = memory.Memory(shape=width, depth=groups, init=[], attrs=None if groups == 1 else NO_RW_CHECK)
    m.submodules[name] = mem
    wr = mem.write_port()
    rd = mem.read_port(transparent_for=(wr,)) if groups == 1 else registered_read(m, mem, f"{name}_rd")
    return mem, wr, rd
