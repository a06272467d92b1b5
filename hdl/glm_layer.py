"""Event-driven layer of GLM neurons with binary-cell synapses (docs/semantics.md 4-5, 7-9)."""

from amaranth.hdl import Cat, Const, Mux, Signal, signed
from amaranth.lib import memory

from spinaps import contract

from .synapse_layer import SynapseLayer, saturating_add, synapse_words
from .xorshift import XorshiftBank

__all__ = ["GlmLayer", "synapse_words"]


class GlmLayer(SynapseLayer):
    """A layer of probabilistic GLM neurons with ``lanes`` parallel accumulator lanes.

    The synapse engine (:class:`~spinaps.hdl.synapse_layer.SynapseLayer`) accumulates
    ``w * trace`` per event and basis; at the end of a step the neuron update runs word by
    word while the next step's events accumulate: potential, sigmoid table, one draw per
    lane, compare. Each updated word leaves on ``neurons`` (spikes and potentials,
    ascending neuron index).

    Latency: a word's neuron result leaves 6 cycles after its update starts (five register
    stages: sums, scale multiply, bias and saturation, sigmoid table, its output; then the
    draw compare).
    Backpressure: as the synapse engine (``events`` valid/ready, end-of-step held while the
    previous update runs); ``neurons`` has no ready: its consumer takes every beat.

    Parameters
    ----------
    params : spinaps.sw.golden.GlmLayerParams
        Integer weights, basis, gamma, scale, sigmoid table and lane seeds.
    t_max : int
        Time steps per inference.
    window, adders, count_depth : int
        Window schedule and counter ring of the synapse engine
        (:class:`~spinaps.hdl.synapse_layer.SynapseLayer`; hardware only, no value changes).
    memory : SramSynapseMemory or SttRamSynapseMemory
        Synapse memory (``n_in*K*ceil(n_out/lanes)`` words of ``lanes*weight_bits`` bits)
        holding ``synapse_words(...)``; the layer drives its read port, the write port is
        left to the owner.
    """

    @staticmethod
    def check_parameters(params, t_max):
        """Raise ``ValueError`` naming the field if the layer cannot be built for ``params``."""
        n_out, n_in, k = params.weights.shape
        tau = params.basis.shape[1]
        contract.check("n_classes", n_out, field="n_out")      # a GLM layer is the output layer
        contract.check("n_in", n_in)
        contract.check("basis", k, field="basis (K)")
        contract.check("tau", tau)
        contract.check_lanes(n_out, params.lanes)
        contract.check("t_max", t_max)
        contract.check_choice("weight_bits", params.weight_bits, contract.WEIGHT_BITS)
        contract.check("basis_bits", params.basis_bits)
        contract.check("u_bits", params.u_bits)
        contract.check("scale_bits", params.scale_bits)
        contract.check("scale_shift", params.scale_shift)
        if params.basis.shape[0] != k:
            raise ValueError(f"basis has {params.basis.shape[0]} rows but the weights have K = {k}")
        if len(params.sigmoid) != 1 << params.u_bits:
            raise ValueError(f"sigmoid table has {len(params.sigmoid)} entries, u_bits needs {1 << params.u_bits}")

    def __init__(self, params, *, t_max, memory, window=1, adders=1, count_depth=None, consumer_window=None):
        self.check_parameters(params, t_max)
        n_out, n_in, _ = params.weights.shape
        self.params = params
        self._bank = XorshiftBank(params.base_seeds)
        super().__init__(n_in=n_in, n_out=n_out, lanes=params.lanes, weight_bits=params.weight_bits,
                         basis=params.basis, basis_bits=params.basis_bits, t_max=t_max, memory=memory,
                         u_bits=params.u_bits, window=window, adders=adders, count_depth=count_depth,
                         consumer_window=consumer_window)

    @property
    def storage(self):
        """The synapse engine's storage (:attr:`SynapseLayer.storage`) plus:

        * ``sigmoid_tables``: one spike-probability table per lane, ``2^u_bits`` entries of
          16 bits each, synchronous read (``"bram"``);
        * ``generators``: the lanes' xorshift32 states, 32 flip-flops per lane.

        A GLM neuron keeps no potential from step to step (docs/semantics.md section 5), so
        there is no neuron state; the constant gamma and scale tables are logic, not storage.
        """
        out = super().storage
        out["sigmoid_tables"] = ("bram", self.lanes * contract.PROBABILITY_BITS << self.params.u_bits)
        out.update(self._bank.storage)
        return out

    def elaborate_neurons(self, m, step_sums, start, done, issued):
        p = self.params
        P, Qn = self.lanes, self.words
        m.submodules.bank = bank = self._bank
        m.d.comb += [bank.seed.eq(self.seed), bank.load.eq(self.start)]

        # One table per lane, each with a single read port: a block RAM per lane (a table
        # with P read ports is not mapped to block RAM by Yosys and becomes LUT logic).
        rom = []
        for lane in range(P):
            table = memory.Memory(shape=contract.PROBABILITY_BITS, depth=1 << p.u_bits,
                                  init=[int(v) for v in p.sigmoid])
            m.submodules[f"sigmoid{lane}"] = table
            rom.append(table.read_port())
        upd_active, upd_word, upd_step = self.word_counter(m, start)

        # Five register stages, each one operation deep, so that no path from the word counter
        # to the spikes crosses more than one adder or multiplier: 1 sums and constants read,
        # 2 scale multiply, 3 bias add and saturation, 4 sigmoid table read, 5 the table's
        # output registered (block RAM outputs are slow), then the draw compare.
        S = 5
        valid = [upd_active] + [Signal(name=f"s{i}_valid") for i in range(1, S + 1)]
        word = [upd_word] + [Signal(range(max(2, Qn)), name=f"s{i}_word") for i in range(1, S + 1)]
        for i in range(S):
            m.d.sync += [valid[i + 1].eq(valid[i]), word[i + 1].eq(word[i])]
        # Window mode: a GLM neuron keeps no state from step to step (its histories are in the
        # sums, its draws come in pipeline order), so a window's next step enters right behind
        # the last word of this one (``issued``), its step number riding along.
        if self.window > 1:
            step = [upd_step] + [Signal.like(upd_step, name=f"s{i}_step") for i in range(1, S + 1)]
            for i in range(S):
                m.d.sync += step[i + 1].eq(step[i])
            out_step = step[S]
            m.d.comb += issued.eq(upd_active & (upd_word == Qn - 1))
        else:
            out_step = upd_step

        W, U = self.acc_bits, p.u_bits
        vbits = W + p.scale_bits + 2
        # The sums' mask (a word not written in the step counts 0) is registered beside them and
        # applied to the product of stage 2 (UP5K timing: see step_sums).
        sums, fresh = step_sums(upd_word, masked=False)
        ok1 = Signal()
        m.d.sync += ok1.eq(fresh)
        out_u, sig = [], []
        for lane in range(P):
            a1 = Signal(signed(W), name=f"s1_a{lane}")
            m.d.sync += a1.eq(sums[lane])
            prod2, gam2 = Signal(signed(vbits), name=f"s2_prod{lane}"), Signal(signed(U), name=f"s2_gam{lane}")
            if Qn == 1:
                # One word: the lane's scale and bias are constants. A shift-and-add product
                # (canonical signed digits) needs no DSP block, so a one-word output layer does
                # not run out of them (the UP5K has 8).
                j = lane if lane < self.n_out else None
                scale = int(p.scale[j]) if j is not None else 0
                m.d.sync += [prod2.eq(Mux(ok1, _times_constant(a1, scale), 0)),
                             gam2.eq(int(p.gamma[j]) if j is not None else 0)]
            else:
                js = [q * P + lane for q in range(Qn)]
                gam = Cat(*[Const(int(p.gamma[j]) if j < self.n_out else 0, signed(U)) for j in js]
                          ).word_select(upd_word, U).as_signed()
                scl = Cat(*[Const(int(p.scale[j]) if j < self.n_out else 0, p.scale_bits) for j in js]
                          ).word_select(upd_word, p.scale_bits)
                gam1, scl1 = Signal(signed(U), name=f"s1_gam{lane}"), Signal(p.scale_bits, name=f"s1_scl{lane}")
                m.d.sync += [gam1.eq(gam), scl1.eq(scl), prod2.eq(Mux(ok1, scl1 * a1, 0)), gam2.eq(gam1)]
            # v = clamp(gamma + (product >> shift)); gamma is a U-bit value (semantics 5)
            u3 = Signal(signed(U), name=f"s3_u{lane}")
            m.d.sync += u3.eq(saturating_add(gam2, prod2 >> p.scale_shift, U))
            m.d.comb += [rom[lane].addr.eq(Cat(u3[:-1], ~u3[-1])), rom[lane].en.eq(valid[3])]  # u + 2^(U-1)
            u4 = Signal(signed(U), name=f"s4_u{lane}")
            u5 = Signal(signed(U), name=f"s5_u{lane}")
            sig5 = Signal(contract.PROBABILITY_BITS, name=f"s5_sigmoid{lane}")
            with m.If(valid[3]):
                m.d.sync += u4.eq(u3)
            with m.If(valid[4]):
                m.d.sync += [u5.eq(u4), sig5.eq(rom[lane].data)]
            out_u.append(u5)
            sig.append(sig5)

        spikes = []
        for lane in range(P):
            real = self.is_neuron(word[S], lane)
            spk = Signal(name=f"spike{lane}")
            m.d.comb += spk.eq((bank.draw[lane][contract.DRAW_SHIFT["glm"]:] < sig[lane]) & real)
            spikes.append(spk)
        out = self.neurons.payload
        last = word[S] == Qn - 1
        m.d.comb += [
            bank.advance.eq(valid[S]),
            self.neurons.valid.eq(valid[S]),
            out.step.eq(out_step), out.word.eq(word[S]), out.last.eq(last), out.spikes.eq(Cat(*spikes)),
            done.eq(valid[S] & last),
        ] + [out.u[lane].eq(out_u[lane]) for lane in range(P)]


def _csd_digits(c):
    """``(shift, sign)`` pairs with ``c = sum(sign << shift)`` and no two adjacent shifts
    (canonical signed digits: the fewest non-zero digits)."""
    digits, shift = [], 0
    while c:
        if c & 1:
            d = 2 - (c & 3)             # +1 when c = ...01, -1 when c = ...11
            digits.append((shift, d))
            c -= d
        c >>= 1
        shift += 1
    return digits


def _times_constant(x, c):
    """``x * c`` for a constant ``c >= 0`` as a balanced sum of shifted copies of ``x``."""
    terms = [(x << shift) if sign > 0 else -(x << shift) for shift, sign in _csd_digits(c)]
    if not terms:
        return Const(0, 1)
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]
