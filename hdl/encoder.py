"""Bernoulli rate encoder that emits the addresses of active inputs (docs/semantics.md 3.1, 4)."""

from spinaps import contract

from .event_encoder import EventEncoder
from .xorshift import XorshiftBank

__all__ = ["BernoulliEncoder"]


class BernoulliEncoder(EventEncoder):
    """Sample buffer, ``lanes`` parallel Bernoulli comparators and a priority emitter.

    Load: ``sample`` accepts the ``frames * n_inputs`` 8-bit intensities of one sample,
    frame after frame, each in index order (``loaded`` rises after the last one; it only
    accepts while not running). Step ``t`` compares against frame ``min(t, frames) - 1``. Run: a
    ``start`` pulse (with ``seed``) loads the generators and runs ``t_max`` time steps. Each
    step scans the inputs ``lanes`` at a time: one draw per generator per group, spike if
    ``draw >> 24 < intensity``, history ``h = (h << 1 | x) & (2**tau - 1)``, and emits one
    ``events`` beat per input whose history is non-zero (ascending index, with ``hist``),
    then one beat with ``eos`` set. The datapath besides the generators is
    :class:`~spinaps.hdl.event_encoder.EventEncoder`'s.

    Work follows spikes: a group costs ``max(1, active inputs in it)`` cycles, so a step
    costs about ``max(events, groups) + 1`` cycles at full throughput.

    Latency: the first event of a run leaves 4 cycles after ``start`` (group fetch, spike
    compare, the emitter's selection, then its output register).
    Backpressure: ``events`` is a valid/ready stream (from flip-flops); a stall holds the
    output register, the emitter, the fetch pipeline and the generators, nothing is lost or
    drawn twice.

    Parameters
    ----------
    n_inputs : int
        Inputs per sample (``contract.RANGES["n_inputs"]``).
    lanes : int
        Comparators and generators working in parallel (:func:`contract.check_encoder_lanes`).
    tau : int
        History window in steps (``contract.RANGES["tau"]``).
    t_max : int
        Time steps per inference (``contract.RANGES["t_max"]``).
    frames : int
        Frames of ``n_inputs`` intensities per sample (``contract.RANGES["frames"]``; time
        series: one per step).
    base_seeds : list of int
        One 32-bit generator seed per lane (docs/semantics.md section 2).
    words_out : bool
        Window mode: each group's spikes as a ``words`` beat (:class:`EventEncoder`).
    groups_per_word : int
        With ``words_out``, 2: two groups per word and cycle, each generator drawing twice
        per cycle (the same draws in the same order).
    """

    def __init__(self, *, n_inputs, lanes, tau, t_max, base_seeds, frames=1, words_out=False, groups_per_word=1):
        super().__init__(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, frames=frames, words_out=words_out,
                         groups_per_word=groups_per_word)
        if len(base_seeds) != lanes:
            raise ValueError(f"base_seeds has {len(base_seeds)} entries; need one per lane ({lanes})")
        # (loaded at every start: no reset)
        self._bank = XorshiftBank(base_seeds, draws=groups_per_word, reset_less=True)

    @property
    def storage(self):
        """Storage of the encoder, ``{name: (kind, bits)}`` as the layers' ``storage``:

        * ``samples``, ``history``: :attr:`EventEncoder.storage
          <spinaps.hdl.event_encoder.EventEncoder.storage>`;
        * ``generators``: the lanes' xorshift32 states, 32 flip-flops per lane.
        """
        out = super().storage
        out.update(self._bank.storage)
        return out

    def _elaborate_lanes(self, m):
        m.submodules.bank = self._bank
        # For the formal proof (tests/formal): the draws handed out and the cycles that consume
        # one per lane; nothing is added to the design.
        self.internals = {"draw": self._bank.draw, "advance": self._bank.advance}

    def _lane_spike(self, m, g, byte, first_step, sub=0):
        draw = self._bank.draw2[g] if sub else self._bank.draw[g]
        return draw[contract.DRAW_SHIFT["encoder"]:] < byte

    def _on_take(self, m, second):
        m.d.comb += self._bank.advance.eq(1)
        if self.groups_per_word == 2:
            m.d.comb += self._bank.advance2.eq(second)

    def _start(self, m):
        m.d.comb += [self._bank.seed.eq(self.seed), self._bank.load.eq(self.start)]
