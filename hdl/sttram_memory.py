"""Behavioral model of a binary STT-RAM synapse array: pipelined reads, multi-cycle writes
and an optional write-error model (a simulation feature)."""

from numbers import Real

from amaranth.hdl import Module, Signal

from spinaps.contract import MASK32, check_at_least, check_int, xorshift32

from .synapse_memory_base import SynapseMemoryBase
from .xorshift import xorshift32_next

__all__ = ["SttRamSynapseMemory"]


def _fmix32(h):
    # MurmurHash3 finalizer: a bijection on 32-bit words with good avalanche.
    h ^= h >> 16
    h = (h * 0x85EB_CA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2_AE35) & MASK32
    h ^= h >> 16
    return h


def _cell_seed(seed, cell):
    state = _fmix32((seed + 0x9E37_79B9 * (cell + 1)) & MASK32)
    return state or 0x6D2B_79F5  # xorshift32 state must never be zero


class SttRamSynapseMemory(SynapseMemoryBase):
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
        check_at_least("read_latency", read_latency, 1, "cycles from rd_en to rd_valid")
        check_at_least("write_latency", write_latency, 1, "cycles a write occupies the array")
        if (isinstance(write_error_prob, bool) or not isinstance(write_error_prob, Real) or
                not 0 <= write_error_prob < 1):  # also rejects NaN
            raise ValueError(f"write_error_prob must be a number with "
                             f"0 <= write_error_prob < 1, not {write_error_prob!r}")
        check_int("write_error_seed", write_error_seed, 0, MASK32, "a 32-bit seed")
        super().__init__(data_width=data_width, depth=depth, init=init)
        self.read_latency = read_latency
        self.write_latency = write_latency
        self.write_error_prob = float(write_error_prob)
        self.write_error_seed = write_error_seed
        if self.write_error_prob > 0:
            self.write_error_threshold = round(self.write_error_prob * MASK32)
            self.error_seeds = tuple(_cell_seed(write_error_seed, cell)
                                     for cell in range(data_width))
        else:
            self.write_error_threshold = 0
            self.error_seeds = ()

    @property
    def storage(self):
        """The array (``"bram"``, as :attr:`SynapseMemoryBase.storage`), plus the write-error
        generators when the error model is on (``"write_error_generators"``: 32 flip-flops
        per cell of a word, a simulation feature)."""
        out = dict(super().storage)
        if self.error_seeds:
            out["write_error_generators"] = ("ff", 32 * len(self.error_seeds))
        return out

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
