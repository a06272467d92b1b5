"""Deterministic accumulate-and-fire rate encoder that emits the addresses of active inputs
(docs/semantics.md 3.2, 4)."""

from amaranth.hdl import Cat, Mux, Signal

from spinaps import contract

from .event_encoder import EventEncoder
from .synth_hints import write_back_memory

__all__ = ["DeterministicEncoder"]


class DeterministicEncoder(EventEncoder):
    """Sample buffer, ``lanes`` accumulate-and-fire lanes and a priority emitter; no randomness.

    Every input has an 8-bit accumulator, ``128`` (``contract.ENCODER_PHASE``) at the start
    of an inference. Each step scans the inputs ``lanes`` at a time: per lane
    ``s = acc + intensity`` (9 bits), spike = the carry ``s >> 8``, ``acc = s & 255``
    (:func:`spinaps.contract.accumulate_fire`); history ``h = (h << 1 | x) & (2**tau - 1)``;
    one ``events`` beat per input whose history is non-zero (ascending index, with
    ``hist``), then one beat with ``eos`` set. Ports, event order, history handling and the
    emitter are :class:`~spinaps.hdl.event_encoder.EventEncoder`'s, the same as
    :class:`~spinaps.hdl.encoder.BernoulliEncoder`'s, so the accelerator takes either;
    ``seed`` is accepted and ignored (nothing is drawn).

    The accumulators live in a memory of ``groups`` words of ``8 * lanes`` bits, read one
    group ahead and written back when the group is taken (like the histories; transparent,
    so a one-group encoder reads the word it wrote). Step 1 uses the phase instead of the
    memory's word, so no cycle clears it between inferences.

    Work follows spikes: a group costs ``max(1, active inputs in it)`` cycles, so a step
    costs about ``max(events, groups) + 1`` cycles at full throughput.

    Latency: the first event of a run leaves 4 cycles after ``start`` (group fetch,
    accumulate, the emitter's selection, then its output register).
    Backpressure: ``events`` is a valid/ready stream (from flip-flops); a stall holds the
    output register, the emitter, the fetch pipeline and the accumulators (written only when
    a group is taken), so nothing is lost or accumulated twice.

    Parameters
    ----------
    n_inputs : int
        Inputs per sample (``contract.RANGES["n_inputs"]``).
    lanes : int
        Accumulators working in parallel (:func:`contract.check_encoder_lanes`); changes no
        spike, only cycles.
    tau : int
        History window in steps (``contract.RANGES["tau"]``).
    t_max : int
        Time steps per inference (``contract.RANGES["t_max"]``).
    frames : int
        Frames of ``n_inputs`` intensities per sample (``contract.RANGES["frames"]``; time
        series: one per step; the accumulators carry over from frame to frame).
    words_out : bool
        Window mode: each group's spikes as a ``words`` beat (:class:`EventEncoder`).
    """

    def __init__(self, *, n_inputs, lanes, tau, t_max, frames=1, words_out=False):
        super().__init__(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, frames=frames, words_out=words_out)
        self._acc_next = []

    @property
    def storage(self):
        """Storage of the encoder, ``{name: (kind, bits)}`` as the layers' ``storage``:

        * ``samples``, ``history``: :attr:`EventEncoder.storage
          <spinaps.hdl.event_encoder.EventEncoder.storage>`;
        * ``accumulators``: 8 bits per input slot, ``groups`` words of ``8 * lanes`` bits,
          synchronous read (``"bram"``).
        """
        out = super().storage
        out["accumulators"] = ("bram", contract.INTENSITY_BITS * self.lanes * self.groups)
        return out

    def _elaborate_lanes(self, m):
        bits = contract.INTENSITY_BITS
        _, self._acc_wr, self._acc_rd = write_back_memory(m, "accumulators", bits * self.lanes, self.groups)
        self._acc_next = []

    def _lane_spike(self, m, g, byte, first_step, sub=0):
        bits = contract.INTENSITY_BITS
        before = Signal(bits, name=f"acc{g}")
        m.d.comb += before.eq(Mux(first_step, contract.ENCODER_PHASE, self._acc_rd.data[g * bits:(g + 1) * bits]))
        total = Signal(bits + 1, name=f"acc_sum{g}")
        m.d.comb += total.eq(before + byte)
        self._acc_next.append(total[:bits])
        return total[bits]

    def _fetch(self, m, take, s1_group, next_group):
        m.d.comb += [
            self._acc_rd.addr.eq(next_group), self._acc_rd.en.eq(take),
            self._acc_wr.addr.eq(s1_group), self._acc_wr.en.eq(take),
            self._acc_wr.data.eq(Cat(*self._acc_next)),
        ]

    def _start(self, m):
        with m.If(self.start):
            m.d.comb += [self._acc_rd.addr.eq(0), self._acc_rd.en.eq(1)]
