"""Behavioral model of a binary STT-RAM synapse array: pipelined reads, multi-cycle writes,
and optional write errors and write-verify (simulation features, docs/semantics.md 9.1)."""

from amaranth.hdl import Module, Mux, Signal

from spinaps import contract
from spinaps.contract import check_at_least, check_int

from .synapse_memory_base import COUNTER_WIDTH, SynapseMemoryBase
from .xorshift import xorshift32_next

__all__ = ["SttRamSynapseMemory"]


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
      change them afterwards. (With write-verify a write lasts longer: see below.)
    * Read during a write: reads keep working while a write is in flight (a read/write
      port pair, as in the SRAM model). The word is committed to the array at the clock edge
      ending cycle ``a + write_latency - 1``: a read issued in cycles ``a .. a + write_latency - 1``
      returns the OLD word, a read issued in cycle ``a + write_latency`` or later returns the
      new one. With ``write_latency = 1`` this is exactly the SRAM behavior (a read issued in the
      same cycle as the write returns the old word).
    * Reset aborts a write in flight (the array keeps its old word) and clears the read
      pipeline and the counters; the array contents and the write-error generators are not
      reset. (The accelerator resets its layers only after an inference's result is taken and
      writes only between inferences; a load that overlaps a reset is outside section 9.1.)

    **Write errors and write-verify (simulation features, docs/semantics.md 9.1).**
    With ``write_error_prob = p > 0`` a written cell that has to change state fails to switch
    (keeps its old bit) with probability ``p``; a cell already in the written state is never
    disturbed (the physics of spin-transfer-torque switching: the write current only pushes
    the free layer towards the written state). To know which cells change, the old word is
    read through a second (internal) read port in the acceptance cycle, so write errors and
    write-verify need ``write_latency >= 2``. Cell ``m`` has its own xorshift32 generator,
    seeded with :func:`spinaps.contract.fault_cell_seed` ``(write_error_seed, layer, m)``;
    every write attempt draws once from every generator (whether or not the cell changes),
    and cell ``m`` fails when its draw is ``<= write_error_threshold``. The generators are
    reset-less: they start from their seeds at power-up (configuration) and run on through
    every reset, so the draws follow the whole write history of the memory.

    With ``write_retries = R > 0`` each attempt is followed by a verify read; when the word
    read back differs from the one written, it is written again (a new attempt, drawing
    again), at most ``R`` times. Timing of a write accepted in cycle ``a``: attempt ``n``
    starts in cycle ``s_n`` (``s_0 = a``), reads the old word there and commits at the end of
    cycle ``s_n + write_latency - 1``; the verify read is issued in cycle
    ``s_n + write_latency`` and compared in the next cycle, which is also ``s_{n+1}`` of a
    retry. ``wr_ready`` is high again the cycle after the last compare, so a write with
    ``N`` attempts keeps the memory busy ``N * (write_latency + 1) + 1`` cycles
    (:func:`spinaps.contract.write_cycles`; ``write_latency`` cycles without verify).

    Counters (reset with the memory, like ``reads``): ``writes`` (accepted writes),
    ``write_errors`` (cells that failed to switch, over every attempt) and, as plain
    attributes (not ports: the SRAM model has no such thing), ``retries`` (re-writes) and
    ``write_cycles`` (cycles of acceptance or of a write in progress).
    :func:`spinaps.sw.write_faults.write_memory` computes all of it in Python.

    With ``erased = True`` the array starts with every cell 0 (a blank macro), whatever
    ``init`` says: the accelerator passes the network's words as ``init``, and a run-time
    load through its ``weights`` stream is simulated this way.

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
        Cycles a write occupies the array (>= 1; >= 2 with write errors or write-verify). Default 4.
    write_error_prob : float
        Probability that a cell which has to change state fails to, ``0 <= p < 1``. Default 0.
    write_error_seed : int
        Fault seed, ``0 <= write_error_seed < 2**32``. Ignored when ``write_error_prob == 0``.
    write_retries : int
        Re-writes after a failed verify read (``contract.WRITE_RETRIES``); 0 (default): no verify.
    erased : bool
        Start with every cell 0 instead of ``init``. Default False.
    layer : int
        Index of the layer whose memory this is: selects its generators' seeds. Default 0.

    Attributes
    ----------
    addr_width : int
        ``max(1, ceil(log2(depth)))``.
    read_latency, write_latency, write_error_prob, write_error_seed, write_retries, layer
        As given.
    write_error_threshold : int
        A cell fails when its generator's draw is ``<= write_error_threshold`` (0 without errors).
    error_seeds : tuple of int
        Initial state of each cell's generator (empty without errors).
    init : tuple of int
        The words the array starts with (all 0 when ``erased``).
    retries, write_cycles : Signal(32)
        Counters (see above): re-writes (always 0 without verify) and cycles of writing.

    Raises
    ------
    ValueError
        If a parameter is out of range; the message names the parameter and its value.
    """

    def __init__(self, *, data_width, depth, init=None, read_latency=2, write_latency=4,
                 write_error_prob=0.0, write_error_seed=contract.DEFAULT_FAULT_SEED, write_retries=0,
                 erased=False, layer=0):
        check_at_least("read_latency", read_latency, 1, "cycles from rd_en to rd_valid")
        check_at_least("write_latency", write_latency, 1, "cycles a write occupies the array")
        prob = contract.check_write_error_prob(write_error_prob)
        seed_range, retry_range = contract.FAULT_SEED, contract.WRITE_RETRIES
        check_int("write_error_seed", write_error_seed, seed_range.lo, seed_range.hi, seed_range.meaning)
        check_int("write_retries", write_retries, retry_range.lo, retry_range.hi, retry_range.meaning)
        check_int("layer", layer, 0, contract.MAX_LAYERS - 1, "index of the memory's layer")
        if (prob > 0 or write_retries) and write_latency < contract.FAULT_MIN_WRITE_LATENCY:
            raise ValueError(f"write_latency = {write_latency}: write errors and write-verify need "
                             f"write_latency >= {contract.FAULT_MIN_WRITE_LATENCY} (the old word is read "
                             f"before the commit)")
        super().__init__(data_width=data_width, depth=depth, init=init)
        if erased:
            self.init = ()
        self.read_latency = read_latency
        self.write_latency = write_latency
        self.write_error_prob = prob
        self.write_error_seed = write_error_seed
        self.write_retries = write_retries
        self.layer = layer
        if prob > 0:
            self.write_error_threshold = contract.write_error_threshold(prob)
            self.error_seeds = tuple(contract.fault_cell_seed(write_error_seed, layer, cell)
                                     for cell in range(data_width))
        else:
            self.write_error_threshold = 0
            self.error_seeds = ()
        self.retries = Signal(COUNTER_WIDTH, name="retries")
        self.write_cycles = Signal(COUNTER_WIDTH, name="write_cycles")

    @property
    def storage(self):
        """The array (``"bram"``, as :attr:`SynapseMemoryBase.storage`), plus the write-error
        generators when the error model is on (``"write_error_generators"``: 32 flip-flops
        per cell of a word, a simulation feature)."""
        out = dict(super().storage)
        if self.error_seeds:
            out["write_error_generators"] = ("ff", 32 * len(self.error_seeds))
        return out

    def elaborate(self, platform):
        m = Module()
        # Checked writes read the word being written (old word, verify): keep the collision logic.
        m.submodules.array = array = self._array(reads_meet_writes=bool(self.error_seeds or self.write_retries))

        # Read pipeline: the memory's synchronous read, then `read_latency - 1` registers.
        valid = Signal(name="rd_valid_1")
        m.d.sync += valid.eq(self.rd_en)
        data = self._read(m, array, self.rd_en, self.rd_addr)
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

        accept = Signal()
        m.d.comb += accept.eq(self.wr_valid & self.wr_ready)
        m.d.sync += self.writes.eq(self.writes + accept)
        wr_port = array.write_port(domain="sync")
        if self.error_seeds or self.write_retries:
            self._elaborate_checked_writes(m, array, wr_port, accept)
        else:
            self._elaborate_plain_writes(m, wr_port, accept)
        return m

    def _elaborate_plain_writes(self, m, wr_port, accept):
        """Writes that always succeed: commit at the clock edge ending the last busy cycle."""
        if self.write_latency == 1:
            m.d.comb += [
                self.wr_ready.eq(1),
                wr_port.en.eq(accept),
                wr_port.addr.eq(self.wr_addr),
                wr_port.data.eq(self.wr_data),
            ]
            m.d.sync += self.write_cycles.eq(self.write_cycles + accept)
            return
        busy = Signal()
        busy_count = Signal(range(self.write_latency - 1), name="busy_count")
        pending_addr = Signal(self.addr_width)
        pending_data = Signal(self.data_width)
        m.d.comb += [
            self.wr_ready.eq(~busy),
            wr_port.addr.eq(pending_addr),
            wr_port.data.eq(pending_data),
        ]
        m.d.sync += self.write_cycles.eq(self.write_cycles + (accept | busy))
        with m.If(accept):
            m.d.sync += [
                busy.eq(1),
                busy_count.eq(self.write_latency - 2),
                pending_addr.eq(self.wr_addr),
                pending_data.eq(self.wr_data),
            ]
        with m.Elif(busy):
            with m.If(busy_count == 0):
                m.d.comb += wr_port.en.eq(1)
                m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += busy_count.eq(busy_count - 1)

    def _elaborate_checked_writes(self, m, array, wr_port, accept):
        """Writes with write errors and/or write-verify (docs/semantics.md 9.1).

        A phase register rather than ``m.FSM``, and every output a plain expression of
        registers: Icarus evaluates an FSM's combinational ``always`` block only once one of
        its inputs changes, so ``wr_ready`` would stay X while the memory sits idle from reset.
        """
        # The old word (and the verify read) come through a second read port, which reads the
        # pending address every cycle (the new one in the acceptance cycle).
        old_port = array.read_port(domain="sync", transparent_for=())
        old = old_port.data
        pending_addr = Signal(self.addr_width)
        pending_data = Signal(self.data_width)
        count = Signal(range(max(2, self.write_latency - 1)), name="busy_count")
        attempts = Signal(range(self.write_retries + 1), name="attempt")
        idle, writing, verify_read, verify = range(4)
        phase = Signal(range(4), name="write_phase", init=idle)
        commit = Signal()
        m.d.comb += [
            self.wr_ready.eq(phase == idle),
            commit.eq((phase == writing) & (count == 0)),
            old_port.en.eq(1),
            old_port.addr.eq(Mux(accept, self.wr_addr, pending_addr)),
            wr_port.en.eq(commit),
            wr_port.addr.eq(pending_addr),
        ]

        # One draw per cell per attempt; a cell fails when it has to change and its draw is low.
        fail = Signal(self.data_width)
        for cell, seed in enumerate(self.error_seeds):
            state = Signal(32, name=f"xorshift_state_{cell}", init=seed, reset_less=True)
            draw = xorshift32_next(m, state, f"xorshift_{cell}")
            m.d.comb += fail[cell].eq(draw <= self.write_error_threshold)
            with m.If(commit):
                m.d.sync += state.eq(draw)
        failed = Signal(self.data_width)
        m.d.comb += [
            failed.eq(fail & (old ^ pending_data)),
            wr_port.data.eq(pending_data ^ failed),
        ]
        n_failed = Signal(range(self.data_width + 1))
        m.d.comb += n_failed.eq(sum(failed[cell] for cell in range(self.data_width)))
        m.d.sync += self.write_cycles.eq(self.write_cycles + (accept | (phase != idle)))

        with m.If(accept):
            m.d.sync += [pending_addr.eq(self.wr_addr), pending_data.eq(self.wr_data),
                         count.eq(self.write_latency - 2), attempts.eq(0), phase.eq(writing)]
        with m.If(phase == writing):
            with m.If(count == 0):
                m.d.sync += [self.write_errors.eq(self.write_errors + n_failed),
                             phase.eq(verify_read if self.write_retries else idle)]
            with m.Else():
                m.d.sync += count.eq(count - 1)
        with m.If(phase == verify_read):
            m.d.sync += phase.eq(verify)
        with m.If(phase == verify):
            with m.If((old == pending_data) | (attempts == self.write_retries)):
                m.d.sync += phase.eq(idle)
            with m.Else():
                # A retry starts here (its old word is the one just read back).
                m.d.sync += [attempts.eq(attempts + 1), self.retries.eq(self.retries + 1),
                             count.eq(self.write_latency - 2), phase.eq(writing)]
