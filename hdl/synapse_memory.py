"""Synapse memory: one interface, two implementations.

The layer engine reads synapse rows from a word-addressed memory of binary cells
(docs/semantics.md section 9: row ``r = i*K + k`` occupies ``Qn`` words starting at
``r*Qn``; a word holds ``P * b`` cells).  Two components implement the same
:class:`SynapseMemorySignature`:

* :class:`SramSynapseMemory`: one :class:`amaranth.lib.memory.Memory` with a synchronous
  read port and one write port; it maps to block RAM.  Read latency 1, a write every cycle.
* :class:`SttRamSynapseMemory`: a behavioral model of a binary STT-RAM array with a
  configurable read latency (pipelined), a write that occupies the array for several
  cycles, an optional write-error model (simulation feature) and a write-error counter.

:func:`make_synapse_memory` builds either from a string (``"sram"`` or ``"sttram"``), so the
accelerator top can take the memory kind from the command line.

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
from numbers import Real

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

# One xorshift32 everywhere: the golden model's Python reference and the Amaranth step.
from ..sw.golden import xorshift32
from .xorshift import xorshift32_next

__all__ = [
    "COUNTER_WIDTH",
    "MEMORY_KINDS",
    "SynapseMemorySignature",
    "SramSynapseMemory",
    "SttRamSynapseMemory",
    "make_synapse_memory",
    "xorshift32",
]

#: Width of the access counters ``reads``, ``writes`` and ``write_errors`` (they wrap).
COUNTER_WIDTH = 32

_MASK32 = 0xFFFF_FFFF


# --------------------------------------------------------------------------- validation

def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        if minimum == 1:
            what = "a positive integer"
        else:
            what = f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return value


def _check_init(init, data_width, depth):
    if init is None:
        return ()
    try:
        words = list(init)
    except TypeError:
        raise ValueError(f"init must be a list of integers (words), not {init!r}") from None
    if len(words) > depth:
        raise ValueError(f"init has {len(words)} words, more than depth={depth}")
    for index, word in enumerate(words):
        if isinstance(word, bool) or not isinstance(word, int):
            raise ValueError(f"init[{index}] must be an integer, not {word!r}")
        if not 0 <= word < (1 << data_width):
            raise ValueError(
                f"init[{index}] = {word!r} does not fit in data_width={data_width} bits "
                f"(a word must satisfy 0 <= word < {1 << data_width})")
    return tuple(words)


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
        _check_int("addr_width", addr_width, 1)
        _check_int("data_width", data_width, 1)
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

class _silence_if_invalid:
    # A component whose constructor raises is never elaborated; keep Amaranth from adding an
    # "created but never used" warning to the ValueError (Amaranth's own MustUse flag).
    def __init__(self, component):
        self.component = component

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is not None:
            self.component._MustUse__silence = True
        return False


class _SynapseMemory(wiring.Component):
    def __init__(self, *, data_width, depth, init):
        _check_int("data_width", data_width, 1)
        _check_int("depth", depth, 1)
        self.data_width = data_width
        self.depth = depth
        self.addr_width = max(1, ceil_log2(depth))
        self.init = _check_init(init, data_width, depth)
        super().__init__(SynapseMemorySignature(self.addr_width, self.data_width))

    def _array(self):
        return Memory(shape=self.data_width, depth=self.depth, init=self.init)

    def _elaborate_read_counter(self, m):
        m.d.sync += self.reads.eq(self.reads + self.rd_en)


# --------------------------------------------------------------------------- SRAM

class SramSynapseMemory(_SynapseMemory):
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
        with _silence_if_invalid(self):
            super().__init__(data_width=data_width, depth=depth, init=init)

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = self._array()

        rd_port = array.read_port(domain="sync", transparent_for=())
        m.d.comb += [
            rd_port.en.eq(self.rd_en),
            rd_port.addr.eq(self.rd_addr),
            self.rd_data.eq(rd_port.data),
        ]
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


# --------------------------------------------------------------------------- STT-RAM

def _fmix32(h):
    # MurmurHash3 finalizer: a bijection on 32-bit words with good avalanche.
    h ^= h >> 16
    h = (h * 0x85EB_CA6B) & _MASK32
    h ^= h >> 13
    h = (h * 0xC2B2_AE35) & _MASK32
    h ^= h >> 16
    return h


def _cell_seed(seed, cell):
    state = _fmix32((seed + 0x9E37_79B9 * (cell + 1)) & _MASK32)
    return state or 0x6D2B_79F5  # xorshift32 state must never be zero


class SttRamSynapseMemory(_SynapseMemory):
    """Behavioral model of a binary STT-RAM synapse array.

    The array is one :class:`~amaranth.lib.memory.Memory` (synchronous, non-transparent read
    port; one write port) wrapped in the timing of an STT-RAM macro: a longer read latency, a
    write that keeps the array busy for ``write_latency`` cycles and, optionally, random write
    errors.

    **Latency and backpressure.**

    * Read: a read may be issued every cycle (``rd_en``); the word appears on ``rd_data`` with
      ``rd_valid = 1`` exactly ``read_latency`` cycles later. The pipeline is the memory's
      synchronous read (1 cycle) followed by ``read_latency - 1`` register stages; there is no
      backpressure.
    * Write: a write is accepted in a cycle ``a`` with ``wr_valid & wr_ready``. It occupies the
      array during cycles ``a .. a + write_latency - 1``: ``wr_ready`` is low in cycles
      ``a + 1 .. a + write_latency - 1`` and high again in cycle ``a + write_latency``. So one
      write is accepted every ``write_latency`` cycles at most (every cycle when
      ``write_latency = 1``). Address and data are captured at acceptance; the caller may
      change them afterwards.
    * Read during a write: reads keep working while a write is in flight (a read/write
      port pair, as in the SRAM model). The word is committed to the array at the clock edge
      ending cycle ``a + write_latency - 1``: a read issued in cycles ``a .. a + write_latency - 1``
      returns the OLD word, a read issued in cycle ``a + write_latency`` or later returns the
      new one. With ``write_latency = 1`` this is exactly the SRAM behavior (a read issued in the
      same cycle as the write returns the old word).
    * Reset aborts a write in flight (the array keeps its old word) and clears the read
      pipeline and the counters, and returns the error generators to their seeds; the array
      contents are not reset.

    **Write-error model (simulation feature).**
    When ``write_error_prob > 0``, every written cell independently ends up flipped with
    probability ``write_error_threshold / (2**32 - 1)`` (``write_error_threshold =
    round(write_error_prob * (2**32 - 1))``, so the error is below 2**-32). Cell ``m`` has its
    own xorshift32 generator (``s ^= s << 13; s ^= s >> 17; s ^= s << 5`` on 32 bits) seeded
    with ``error_seeds[m]`` (derived from ``write_error_seed``); every accepted write draws
    once from every generator, and cell ``m`` is flipped when its draw is
    ``<= write_error_threshold``. All cells of the word are written (and may fail), whether or
    not their value changes. ``write_errors`` adds the number of flipped cells at acceptance.
    :meth:`reference_flip_masks` reproduces the flip masks in Python. This logic is meant for
    simulation (it costs ``32 * data_width`` flip-flops); with ``write_error_prob == 0`` none
    of it is elaborated and ``write_errors`` is constant 0.

    Parameters
    ----------
    data_width : int
        Word width in binary cells (>= 1).
    depth : int
        Number of words (>= 1).
    init : list of int, optional
        Initial words (at most ``depth``; missing words are 0); each ``0 <= word < 2**data_width``.
    read_latency : int
        Cycles from a read's ``rd_en`` to its ``rd_valid`` (>= 1). Default 2.
    write_latency : int
        Cycles a write occupies the array (>= 1). Default 4.
    write_error_prob : float
        Probability that a written cell ends up flipped, ``0 <= write_error_prob < 1``. Default 0.
    write_error_seed : int
        Seed of the error generators, ``0 <= write_error_seed < 2**32``. Ignored when
        ``write_error_prob == 0``.

    Attributes
    ----------
    addr_width : int
        ``max(1, ceil(log2(depth)))``.
    read_latency, write_latency : int
        As given.
    write_error_prob : float
        As given.
    write_error_threshold : int
        A cell flips when its generator's draw is ``<= write_error_threshold`` (0 without errors).
    error_seeds : tuple of int
        Initial state of each cell's generator (empty without errors).
    init : tuple of int
        The validated initial words.

    Raises
    ------
    ValueError
        If a parameter is out of range; the message names the parameter and its value.
    """

    def __init__(self, *, data_width, depth, init=None, read_latency=2, write_latency=4,
                 write_error_prob=0.0, write_error_seed=0x1234ABCD):
        with _silence_if_invalid(self):
            _check_int("read_latency", read_latency, 1)
            _check_int("write_latency", write_latency, 1)
            if (isinstance(write_error_prob, bool) or not isinstance(write_error_prob, Real) or
                    not 0 <= write_error_prob < 1):  # also rejects NaN
                raise ValueError(f"write_error_prob must be a number with "
                                 f"0 <= write_error_prob < 1, not {write_error_prob!r}")
            if (isinstance(write_error_seed, bool) or not isinstance(write_error_seed, int) or
                    not 0 <= write_error_seed <= _MASK32):
                raise ValueError(f"write_error_seed must be an integer with "
                                 f"0 <= write_error_seed < 2**32, not {write_error_seed!r}")
            super().__init__(data_width=data_width, depth=depth, init=init)
            self.read_latency = read_latency
            self.write_latency = write_latency
            self.write_error_prob = float(write_error_prob)
            self.write_error_seed = write_error_seed
            if self.write_error_prob > 0:
                self.write_error_threshold = round(self.write_error_prob * _MASK32)
                self.error_seeds = tuple(_cell_seed(write_error_seed, cell)
                                         for cell in range(data_width))
            else:
                self.write_error_threshold = 0
                self.error_seeds = ()

    def reference_flip_masks(self, count):
        """Flip masks of the first ``count`` accepted writes (after reset), in Python.

        Bit ``m`` of mask ``n`` is 1 when cell ``m`` of the ``n``-th accepted write is stored
        flipped. All masks are 0 when ``write_error_prob == 0``.
        """
        masks = [0] * count
        for cell, state in enumerate(self.error_seeds):
            for n in range(count):
                state = xorshift32(state)
                if state <= self.write_error_threshold:
                    masks[n] |= 1 << cell
        return masks

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = self._array()

        # Read pipeline: the memory's synchronous read, then `read_latency - 1` registers.
        rd_port = array.read_port(domain="sync", transparent_for=())
        m.d.comb += [
            rd_port.en.eq(self.rd_en),
            rd_port.addr.eq(self.rd_addr),
        ]
        valid = Signal(name="rd_valid_1")
        m.d.sync += valid.eq(self.rd_en)
        data = rd_port.data
        for stage in range(2, self.read_latency + 1):
            next_valid = Signal(name=f"rd_valid_{stage}")
            next_data = Signal(self.data_width, name=f"rd_data_{stage}")
            m.d.sync += [
                next_valid.eq(valid),
                next_data.eq(data),
            ]
            valid, data = next_valid, next_data
        m.d.comb += [
            self.rd_valid.eq(valid),
            self.rd_data.eq(data),
        ]
        self._elaborate_read_counter(m)

        # Write acceptance.
        accept = Signal()
        m.d.comb += accept.eq(self.wr_valid & self.wr_ready)
        m.d.sync += self.writes.eq(self.writes + accept)

        # Write-error model: elaborated only when enabled.
        stored_data = Signal(self.data_width)
        if self.write_error_prob > 0:
            flip_mask = Signal(self.data_width)
            for cell, seed in enumerate(self.error_seeds):
                state = Signal(32, name=f"xorshift_state_{cell}", init=seed)
                draw = xorshift32_next(m, state, f"xorshift_{cell}")
                m.d.comb += flip_mask[cell].eq(draw <= self.write_error_threshold)
                with m.If(accept):
                    m.d.sync += state.eq(draw)
            flips = Signal(range(self.data_width + 1))
            m.d.comb += flips.eq(sum(flip_mask[cell] for cell in range(self.data_width)))
            with m.If(accept):
                m.d.sync += self.write_errors.eq(self.write_errors + flips)
            m.d.comb += stored_data.eq(self.wr_data ^ flip_mask)
        else:
            m.d.comb += stored_data.eq(self.wr_data)

        # Write port: commits at the clock edge ending the last busy cycle.
        wr_port = array.write_port(domain="sync")
        if self.write_latency == 1:
            m.d.comb += [
                self.wr_ready.eq(1),
                wr_port.en.eq(accept),
                wr_port.addr.eq(self.wr_addr),
                wr_port.data.eq(stored_data),
            ]
        else:
            busy = Signal()
            busy_count = Signal(range(self.write_latency - 1), name="busy_count")
            pending_addr = Signal(self.addr_width)
            pending_data = Signal(self.data_width)
            m.d.comb += [
                self.wr_ready.eq(~busy),
                wr_port.addr.eq(pending_addr),
                wr_port.data.eq(pending_data),
            ]
            with m.If(accept):
                m.d.sync += [
                    busy.eq(1),
                    busy_count.eq(self.write_latency - 2),
                    pending_addr.eq(self.wr_addr),
                    pending_data.eq(stored_data),
                ]
            with m.Elif(busy):
                with m.If(busy_count == 0):
                    m.d.comb += wr_port.en.eq(1)
                    m.d.sync += busy.eq(0)
                with m.Else():
                    m.d.sync += busy_count.eq(busy_count - 1)
        return m


# --------------------------------------------------------------------------- factory

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
    try:
        cls = MEMORY_KINDS[kind]
    except (KeyError, TypeError):
        choices = ", ".join(repr(name) for name in MEMORY_KINDS)
        raise ValueError(f"kind must be one of {choices}, not {kind!r}") from None
    accepted = inspect.signature(cls).parameters
    for name in kwargs:
        if name not in accepted:
            raise TypeError(f"a synapse memory of kind {kind!r} does not take parameter "
                            f"{name!r} (it takes {', '.join(accepted)})")
    return cls(**kwargs)
