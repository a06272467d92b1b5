"""Event-driven layer of GLM neurons with binary-cell synapses (docs/semantics.md 4-5, 7-9)."""

from amaranth.hdl import Cat, Const, Mux, Signal, signed
from amaranth.lib import memory

from .params import check_range
from .synapse_layer import SynapseLayer, synapse_words
from .xorshift import XorshiftBank

__all__ = ["GlmLayer", "synapse_words"]


class GlmLayer(SynapseLayer):
    """A layer of probabilistic GLM neurons with ``lanes`` parallel accumulator lanes.

    The synapse engine (:class:`~spinaps.hdl.synapse_layer.SynapseLayer`) accumulates
    ``w * trace`` per event and basis; at the end of a step the neuron update runs word by
    word while the next step's events accumulate: potential, sigmoid table, one draw per
    lane, compare. Each updated word leaves on ``neurons`` (spikes and potentials,
    ascending neuron index).

    Latency: a word's neuron result leaves 2 cycles after its update starts.
    Backpressure: as the synapse engine (``events`` valid/ready, end-of-step held while the
    previous update runs); ``neurons`` has no ready: its consumer takes every beat.

    Parameters
    ----------
    params : spinaps.sw.golden.GlmLayerParams
        Integer weights, basis, gamma, scale, sigmoid table and lane seeds.
    t_max : int
        Time steps per inference.
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
        check_range("n_out", n_out, 2, 65536)
        check_range("n_in", n_in, 1, 65536)
        check_range("basis (K)", k, 1, 4)
        check_range("tau", tau, 1, 8)
        check_range("lanes", params.lanes, 1, n_out, "lanes must be between 1 and the number of neurons")
        check_range("t_max", t_max, 1, 255)
        check_range("u_bits", params.u_bits, 4, 12)
        if params.basis.shape[0] != k:
            raise ValueError(f"basis has {params.basis.shape[0]} rows but the weights have K = {k}")
        if len(params.sigmoid) != 1 << params.u_bits:
            raise ValueError(f"sigmoid table has {len(params.sigmoid)} entries, u_bits needs {1 << params.u_bits}")

    def __init__(self, params, *, t_max, memory):
        self.check_parameters(params, t_max)
        n_out, n_in, _ = params.weights.shape
        self.params = params
        self._bank = XorshiftBank(params.base_seeds)
        super().__init__(n_in=n_in, n_out=n_out, lanes=params.lanes, weight_bits=params.weight_bits,
                         basis=params.basis, basis_bits=params.basis_bits, t_max=t_max, memory=memory,
                         u_bits=params.u_bits)

    def elaborate_neurons(self, m, step_sums, start, done):
        p = self.params
        P, Qn = self.lanes, self.words
        m.submodules.bank = bank = self._bank
        m.d.comb += [bank.seed.eq(self.seed), bank.load.eq(self.start)]

        half = 1 << (p.u_bits - 1)
        m.submodules.sigmoid = table = memory.Memory(
            shape=16, depth=1 << p.u_bits, init=[int(v) for v in p.sigmoid])
        rom = [table.read_port() for _ in range(P)]
        upd_active = Signal()
        upd_word = Signal(range(max(2, Qn)))
        upd_step = Signal(range(self.t_max + 2))
        u1_valid, u1_last = Signal(), Signal()
        u1_word = Signal(range(max(2, Qn)))
        u1_u = [Signal(signed(p.u_bits), name=f"u1_u{lane}") for lane in range(P)]
        with m.If(start):
            m.d.sync += [upd_active.eq(1), upd_word.eq(0), upd_step.eq(upd_step + 1)]
        with m.If(upd_active):
            m.d.sync += [upd_word.eq(upd_word + 1), u1_word.eq(upd_word), u1_last.eq(upd_word == Qn - 1)]
            with m.If(upd_word == Qn - 1):
                m.d.sync += upd_active.eq(0)
        m.d.sync += u1_valid.eq(upd_active)

        vbits = self.acc_bits + p.scale_bits + 2
        sums = step_sums(upd_word)
        for lane in range(P):
            js = [q * P + lane for q in range(Qn)]
            a = sums[lane]
            gam = Cat(*[Const(int(p.gamma[j]) if j < self.n_out else 0, signed(p.u_bits)) for j in js]
                      ).word_select(upd_word, p.u_bits).as_signed()
            scl = Cat(*[Const(int(p.scale[j]) if j < self.n_out else 0, p.scale_bits) for j in js]
                      ).word_select(upd_word, p.scale_bits)
            v = Signal(signed(vbits), name=f"v{lane}")
            m.d.comb += v.eq(gam + ((scl * a) >> p.scale_shift))
            u = Signal(signed(p.u_bits), name=f"u{lane}")
            m.d.comb += u.eq(Mux(v < -half, -half, Mux(v > half - 1, half - 1, v)))
            m.d.comb += [rom[lane].addr.eq(Cat(u[:-1], ~u[-1])), rom[lane].en.eq(upd_active)]  # u + 2^(U-1)
            with m.If(upd_active):
                m.d.sync += u1_u[lane].eq(u)

        spikes = []
        for lane in range(P):
            real = Const(0, 1) if lane >= self.n_out else ((u1_word * P + lane) < self.n_out)
            spk = Signal(name=f"spike{lane}")
            m.d.comb += spk.eq((bank.draw[lane][16:] < rom[lane].data) & real)
            spikes.append(spk)
        out = self.neurons.payload
        m.d.comb += [
            bank.advance.eq(u1_valid),
            self.neurons.valid.eq(u1_valid),
            out.step.eq(upd_step), out.word.eq(u1_word), out.last.eq(u1_last), out.spikes.eq(Cat(*spikes)),
            done.eq(u1_valid & u1_last),
        ] + [out.u[lane].eq(u1_u[lane]) for lane in range(P)]
