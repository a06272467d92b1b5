"""Event-driven layer of integer LIF neurons with binary-cell synapses (docs/semantics.md 5b)."""

import numpy as np
from amaranth.hdl import Cat, Const, Mux, Signal, signed
from amaranth.lib import memory

from spinaps import contract

from .synapse_layer import SynapseLayer

__all__ = ["LifLayer"]

# The reset kinds of docs/semantics.md section 5b: subtract the threshold, or go to zero.
_SUBTRACT, _ZERO = contract.RESETS


class LifLayer(SynapseLayer):
    """A layer of leaky integrate-and-fire neurons with ``lanes`` accumulator lanes.

    The synapse engine (:class:`~spinaps.hdl.synapse_layer.SynapseLayer`, K = 1, every
    event's trace is 1) sums the weights of the step's spiking inputs; at the end of the
    step the neuron update runs word by word (``lanes`` neurons per cycle): leak by
    ``leak_shift``, bias, saturation to ``v_bits``, threshold, reset by subtraction or to
    zero, refractory counter. Potentials and counters live in a LUT memory, one word per
    neuron word, valid once written in the current inference. Each updated word leaves on ``neurons`` with the spikes
    and the saturated potentials before reset (what the decision units compare).

    Latency: a word's result leaves 3 cycles after its update starts (register stages: state
    and sums read, leak-bias-add and saturation, threshold and reset with the write-back). Backpressure: as the synapse
    engine; ``neurons`` has no ready (the consumer raises ``hold`` between steps instead).

    Parameters
    ----------
    params : spinaps.sw.golden.LifLayerParams
    t_max : int
        Time steps per inference.
    window, adders, count_depth : int
        Window schedule and counter ring of the synapse engine
        (:class:`~spinaps.hdl.synapse_layer.SynapseLayer`; hardware only, no value changes).
    memory : SramSynapseMemory or SttRamSynapseMemory
        ``n_in * ceil(n_out/lanes)`` words of ``lanes * weight_bits`` cells holding
        ``synapse_words(weights[..., None], ...)``.
    """

    @staticmethod
    def check_parameters(params, t_max):
        """Raise ``ValueError`` naming the field if the layer cannot be built for ``params``."""
        n_out, n_in = np.asarray(params.weights).shape
        contract.check("n_out", n_out)
        contract.check("n_in", n_in)
        contract.check_lanes(n_out, params.lanes)
        contract.check("t_max", t_max)
        contract.check("v_bits", params.v_bits)
        contract.check("leak_shift", params.leak_shift)
        contract.check("refractory", params.refractory)
        contract.check_choice("weight_bits", params.weight_bits, contract.WEIGHT_BITS)
        contract.check_choice("reset", params.reset, contract.RESETS)
        lowest, highest = contract.potential_bounds(params.v_bits)
        theta, bias = np.asarray(params.threshold), np.asarray(params.bias)
        if theta.shape != (n_out,) or bias.shape != (n_out,):
            raise ValueError(f"threshold and bias need one entry per neuron ({n_out})")
        if theta.min() < 1 or theta.max() > highest:
            raise ValueError(f"thresholds must be in 1..{highest} for v_bits = {params.v_bits}")
        if bias.min() < lowest or bias.max() > highest:
            raise ValueError(f"biases must be in {lowest}..{highest} for v_bits = {params.v_bits}")

    def __init__(self, params, *, t_max, memory, window=1, adders=1, count_depth=None, consumer_window=None):
        self.check_parameters(params, t_max)
        n_out, n_in = np.asarray(params.weights).shape
        self.params = params
        super().__init__(n_in=n_in, n_out=n_out, lanes=params.lanes, weight_bits=params.weight_bits,
                         basis=[[1]], basis_bits=1, t_max=t_max, memory=memory, u_bits=params.v_bits,
                         window=window, adders=adders, count_depth=count_depth,
                         consumer_window=consumer_window)

    @property
    def refractory_bits(self):
        """Bits of a refractory counter (at least 1: the state word always has the field)."""
        return max(1, self.params.refractory.bit_length())

    @property
    def storage(self):
        """The synapse engine's storage (:attr:`SynapseLayer.storage`) plus the neuron state:

        * ``potentials``: ``v_bits`` per neuron slot (``words * lanes``, padding lanes
          included), in the LUT memory of the neuron state (``"lutram"``);
        * ``refractory``: the refractory counters in the same memory words,
          ``refractory_bits`` per neuron slot (1 even without a refractory period);
        * ``state_seen``: one flag per neuron word (the word was written in this inference),
          ``words`` flip-flops.
        """
        out = super().storage
        slots = self.words * self.lanes
        out["potentials"] = ("lutram", slots * self.params.v_bits)
        out["refractory"] = ("lutram", slots * self.refractory_bits)
        out["state_seen"] = ("ff", self.words)
        return out

    def elaborate_neurons(self, m, step_sums, start, done, issued):
        p = self.params
        P, Qn, V = self.lanes, self.words, p.v_bits
        lowest, highest = contract.potential_bounds(V)
        R = p.refractory
        rbits = self.refractory_bits

        # Potentials and refractory counters: one memory word per neuron word, read and
        # written back in the same cycle (asynchronous read: LUT RAM on Xilinx). A word counts
        # only once written in this inference (``seen``), so a new inference starts from 0
        # without clearing the memory.
        S_BITS = V + rbits
        m.submodules.state = state = memory.Memory(shape=P * S_BITS, depth=Qn, init=[])
        st_rd, st_wr = state.read_port(domain="comb"), state.write_port()
        seen = Signal(Qn)

        upd_active, upd_word, upd_step = self.word_counter(m, start)

        # Three register stages, one operation deep each: 1 state, sums and constants read,
        # 2 leak, add and saturation, 3 threshold, reset and write-back. Words are distinct
        # within a step. Time-sequential: the next step's update starts only after this one's
        # last word has left stage 3, so every read sees the previous step's write. Window
        # mode: a window's next step may start right behind this one (``issued``) as long as
        # the same word of two steps enters two cycles apart or more: a word whose previous
        # step is in stage 3 (being written back) takes the state from there (forwarded).
        S = 3
        overlap = self.window > 1
        valid = [upd_active] + [Signal(name=f"s{i}_valid") for i in range(1, S + 1)]
        word = [upd_word] + [Signal(range(max(2, Qn)), name=f"s{i}_word") for i in range(1, S + 1)]
        for i in range(S):
            m.d.sync += [valid[i + 1].eq(valid[i]), word[i + 1].eq(word[i])]
        if overlap:
            step = [upd_step] + [Signal.like(upd_step, name=f"s{i}_step") for i in range(1, S + 1)]
            for i in range(S):
                m.d.sync += step[i + 1].eq(step[i])
            out_step = step[S]
            # The next step's first word enters the cycle after ``issued``: Qn >= 2 words keep
            # the same word Qn cycles apart, one word needs a cycle's gap.
            m.d.comb += issued.eq(valid[1] if Qn == 1 else (upd_active & (upd_word == Qn - 1)))
            forward = Signal()
            if Qn <= 2:
                m.d.comb += forward.eq(valid[2] & (word[2] == upd_word))
        else:
            out_step = upd_step
            forward = Const(0, 1)

        out = self.neurons.payload
        wide = max(V, self.acc_bits) + 3
        sums = step_sums(upd_word)
        known = seen.bit_select(upd_word, 1)
        m.d.comb += [st_rd.addr.eq(upd_word), st_wr.addr.eq(word[2]), st_wr.en.eq(valid[2])]
        with m.If(valid[2]):
            m.d.sync += seen.bit_select(word[2], 1).eq(1)
        spikes, new_state = [], []
        for lane in range(P):
            js = [q * P + lane for q in range(Qn)]
            stored = st_rd.data[lane * S_BITS:(lane + 1) * S_BITS]
            bias = Cat(*[Const(int(p.bias[j]) if j < self.n_out else 0, signed(V)) for j in js]
                       ).word_select(upd_word, V).as_signed()
            theta = Cat(*[Const(int(p.threshold[j]) if j < self.n_out else highest, signed(V)) for j in js]
                        ).word_select(upd_word, V).as_signed()
            # stage 1
            a1 = Signal(signed(self.acc_bits), name=f"s1_a{lane}")
            v1 = Signal(signed(V), name=f"s1_v{lane}")
            r1 = Signal(rbits, name=f"s1_r{lane}")
            b1, th1 = Signal(signed(V), name=f"s1_bias{lane}"), Signal(signed(V), name=f"s1_theta{lane}")
            v_new = Signal(signed(V), name=f"v_new{lane}")
            r_new = Signal(rbits, name=f"r_new{lane}")
            m.d.sync += [a1.eq(sums[lane]), b1.eq(bias), th1.eq(theta),
                         v1.eq(Mux(forward, v_new, Mux(known, stored[:V].as_signed(), 0)))]
            if R:
                m.d.sync += r1.eq(Mux(forward, r_new, Mux(known, stored[V:], 0)))
            # stage 2
            leak = (v1 >> p.leak_shift) if p.leak_shift else 0
            total = Signal(signed(wide), name=f"total{lane}")
            m.d.comb += total.eq(v1 - leak + a1 + b1)
            quiet = r1 != 0 if R else Const(0, 1)
            u2, q2 = Signal(signed(V), name=f"s2_u{lane}"), Signal(name=f"s2_quiet{lane}")
            r2, th2 = Signal(rbits, name=f"s2_r{lane}"), Signal(signed(V), name=f"s2_theta{lane}")
            m.d.sync += [u2.eq(Mux(quiet, v1, Mux(total < lowest, lowest, Mux(total > highest, highest, total)))),
                         q2.eq(quiet), r2.eq(r1), th2.eq(th1)]
            # stage 3: threshold, reset, write-back (the results register into the output)
            fire = Signal(name=f"fire{lane}")
            m.d.comb += fire.eq(~q2 & (u2 >= th2))
            after = (u2 - th2) if p.reset == _SUBTRACT else 0
            m.d.comb += [v_new.eq(Mux(fire, after, u2)), r_new.eq(Mux(q2, r2 - 1, Mux(fire, R, 0)) if R else 0)]
            new_state.append(Cat(v_new, r_new))
            real = self.is_neuron(word[2], lane)
            spk, u3 = Signal(name=f"spike{lane}"), Signal(signed(V), name=f"s3_u{lane}")
            with m.If(valid[2]):
                m.d.sync += [spk.eq(fire & real), u3.eq(u2)]
            m.d.comb += out.u[lane].eq(u3)
            spikes.append(spk)

        last = word[S] == Qn - 1
        m.d.comb += st_wr.data.eq(Cat(*new_state))
        m.d.comb += [
            self.neurons.valid.eq(valid[S]),
            out.step.eq(out_step), out.word.eq(word[S]), out.last.eq(last), out.spikes.eq(Cat(*spikes)),
            done.eq(valid[S] & last),
        ]
