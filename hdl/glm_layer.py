"""Event-driven layer of GLM neurons with binary-cell synapses (docs/semantics.md 4-5, 7-9)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import event_layout, neuron_word_layout
from .params import check_range
from .xorshift import XorshiftBank

__all__ = ["GlmLayer", "synapse_words"]


def synapse_words(weights, weight_bits, lanes):
    """Synapse memory contents for integer weights ``[N_out, N_in, K]`` (semantics section 9)."""
    n_out, n_in, k = len(weights), len(weights[0]), len(weights[0][0])
    qn = -(-n_out // lanes)
    bias = (1 << weight_bits) - 1
    words = []
    for i in range(n_in):
        for kk in range(k):
            for q in range(qn):
                word = 0
                for p in range(lanes):
                    j = q * lanes + p
                    if j < n_out:
                        code = (int(weights[j][i][kk]) + bias) // 2
                        word |= code << (p * weight_bits)
                words.append(word)
    return words


class GlmLayer(wiring.Component):
    """A layer of probabilistic GLM neurons with ``lanes`` parallel accumulator lanes.

    For every ``events`` beat (an active input ``i`` with its history) the layer computes
    the ``K`` traces, and for each non-zero trace reads synapse row ``i*K + k`` from its
    synapse memory (``ceil(n_out/lanes)`` words, one per cycle) and adds ``w * trace`` into
    the lanes. An end-of-step beat latches and clears the accumulators and starts the
    neuron update, which runs word by word while the next step's events accumulate:
    potential, sigmoid table, one draw per lane, compare. Each updated word leaves on
    ``neurons`` (spikes and potentials, ascending neuron index).

    Latency: a row word is accumulated ``memory.read_latency + 1`` cycles after it is
    issued; a word's neuron result leaves 2 cycles after its update starts.
    Backpressure: ``events`` is a valid/ready stream. The layer takes one memory word per
    cycle (an event with one non-zero trace and ``n_out <= lanes`` costs one cycle). It holds
    an end-of-step beat until the previous step's update has left, so at most one step is
    in the update stage. ``neurons`` has no ready: its consumer (the decision unit) takes
    every beat.

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
        n_out, n_in, k = params.weights.shape
        tau = params.basis.shape[1]
        self.params, self.t_max, self.memory = params, t_max, memory
        self.n_in, self.n_out, self.k, self.tau, self.lanes = n_in, n_out, k, tau, params.lanes
        self.words = -(-n_out // params.lanes)
        depth = n_in * k * self.words
        if memory.depth != depth or memory.data_width != params.lanes * params.weight_bits:
            raise ValueError(
                f"synapse memory is {memory.depth} x {memory.data_width} bits; this layer needs "
                f"{depth} x {params.lanes * params.weight_bits}")
        self.trace_max = tau * ((1 << params.basis_bits) - 1)
        bound = n_in * k * ((1 << params.weight_bits) - 1) * self.trace_max
        self.acc_bits = bound.bit_length() + 1
        self._bank = XorshiftBank(params.base_seeds)
        super().__init__({
            "events": In(stream.Signature(event_layout(n_in, tau))),
            "neurons": Out(stream.Signature(
                neuron_word_layout(params.lanes, params.u_bits, self.words, t_max), always_ready=True)),
            "seed": In(16),
            "start": In(1),
            "busy": Out(1),          # an end-of-step is in flight or its update is running
            "events_total": Out(32),  # events of the steps whose end-of-step was taken
            "sops_total": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        p, mem = self.params, self.memory
        P, Qn, K, tau = self.lanes, self.words, self.k, self.tau
        b = p.weight_bits
        m.submodules.memory = mem
        m.submodules.bank = bank = self._bank
        m.d.comb += [bank.seed.eq(self.seed), bank.load.eq(self.start)]

        # --- event sequencer: one synapse word per cycle --------------------------------------
        cbits = max(1, self.trace_max.bit_length())
        cur_valid, cur_eos = Signal(), Signal()
        cur_row = Signal(range(max(2, self.n_in * K * Qn)))
        cur_traces = Signal(cbits * K)
        cur_pending = Signal(K)
        cur_word = Signal(range(max(2, Qn)))
        update_busy = Signal()

        lowest = Signal(range(max(2, K)))
        for kk in reversed(range(K)):
            with m.If(cur_pending[kk]):
                m.d.comb += lowest.eq(kk)
        pending_after = cur_pending & (cur_pending - 1)
        last_word = cur_word == Qn - 1
        finishing = Signal()
        m.d.comb += finishing.eq(cur_valid & (cur_eos | (last_word & (pending_after == 0))))

        # Tag pipeline in step with the memory's read latency; eos travels in order behind
        # the last read of the step, so the step is complete when it comes out.
        L = mem.read_latency
        tag_read = [Signal(name=f"tag{s}_read") for s in range(L + 1)]
        tag_eos = [Signal(name=f"tag{s}_eos") for s in range(L + 1)]
        tag_word = [Signal(range(max(2, Qn)), name=f"tag{s}_word") for s in range(L + 1)]
        tag_trace = [Signal(cbits, name=f"tag{s}_trace") for s in range(L + 1)]
        for s in range(L):
            m.d.sync += [tag_read[s + 1].eq(tag_read[s]), tag_eos[s + 1].eq(tag_eos[s]),
                         tag_word[s + 1].eq(tag_word[s]), tag_trace[s + 1].eq(tag_trace[s])]

        # Table lookups use word_select (a continuous assign in Verilog): an Array of
        # constants becomes an `always @*` that Icarus does not evaluate at time zero.
        obits = max(1, (K * Qn).bit_length())
        k_offset = Cat(*[Const(kk * Qn, obits) for kk in range(K)]).word_select(lowest, obits)
        trace_now = cur_traces.word_select(lowest, cbits)
        with m.If(cur_valid & ~cur_eos):
            m.d.comb += [
                mem.rd_en.eq(1),
                mem.rd_addr.eq(cur_row + k_offset + cur_word),
                tag_read[0].eq(1), tag_word[0].eq(cur_word), tag_trace[0].eq(trace_now),
            ]
            with m.If(last_word):
                m.d.sync += [cur_word.eq(0), cur_pending.eq(pending_after)]
            with m.Else():
                m.d.sync += cur_word.eq(cur_word + 1)
        with m.If(cur_valid & cur_eos):
            m.d.comb += tag_eos[0].eq(1)
        with m.If(finishing):
            m.d.sync += cur_valid.eq(0)

        # Accept the next event when the current one finishes this cycle.
        ev = self.events.payload
        hist_bits = [ev.hist[lag] for lag in range(tau)]
        traces = []
        for kk in range(K):
            t = Signal(cbits, name=f"trace{kk}")
            terms = [Mux(hist_bits[lag], int(p.basis[kk][lag]), 0) for lag in range(tau) if p.basis[kk][lag]]
            m.d.comb += t.eq(sum(terms) if terms else 0)
            traces.append(t)
        nonzero = Cat(*[t != 0 for t in traces])
        step_events, step_sops = Signal(32), Signal(32)
        m.d.comb += self.events.ready.eq((~cur_valid | finishing) & ~(ev.eos & update_busy))
        with m.If(self.events.valid & self.events.ready):
            with m.If(ev.eos):
                m.d.sync += [
                    cur_valid.eq(1), cur_eos.eq(1), update_busy.eq(1),
                    self.events_total.eq(self.events_total + step_events),
                    self.sops_total.eq(self.sops_total + step_sops),
                    step_events.eq(0), step_sops.eq(0),
                ]
            with m.Else():
                popcount = sum(nonzero[kk] for kk in range(K))
                m.d.sync += [
                    cur_valid.eq(nonzero != 0), cur_eos.eq(0), cur_word.eq(0),
                    cur_row.eq(ev.index * (K * Qn)), cur_traces.eq(Cat(*traces)), cur_pending.eq(nonzero),
                    step_events.eq(step_events + 1), step_sops.eq(step_sops + popcount * self.n_out),
                ]

        # --- lanes: accumulate w * trace ----------------------------------------------------------
        acc = [Signal(signed(self.acc_bits), name=f"acc{j}") for j in range(self.n_out)]
        snap = [Signal(signed(self.acc_bits), name=f"snap{j}") for j in range(Qn * P)]
        out_read, out_eos, out_word, out_trace = tag_read[L], tag_eos[L], tag_word[L], tag_trace[L]
        for lane in range(P):
            code = mem.rd_data[lane * b:(lane + 1) * b]
            w = Signal(signed(b + 1), name=f"w{lane}")
            m.d.comb += w.eq(Cat(Const(1, 1), code) - (1 << b))     # 2*code - (2^b - 1)
            prod = Signal(signed(b + 2 + cbits), name=f"prod{lane}")
            m.d.comb += prod.eq(w * out_trace)
            for q in range(Qn):
                j = q * P + lane
                if j >= self.n_out:
                    continue
                with m.If(out_read & (out_word == q)):
                    m.d.sync += acc[j].eq(acc[j] + prod)
        with m.If(out_eos):
            m.d.sync += [s.eq(a) for s, a in zip(snap, acc)] + [a.eq(0) for a in acc]

        # --- neuron update, word by word -------------------------------------------------------
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
        with m.If(out_eos):
            m.d.sync += [upd_active.eq(1), upd_word.eq(0), upd_step.eq(upd_step + 1)]
        with m.If(upd_active):
            m.d.sync += [upd_word.eq(upd_word + 1), u1_word.eq(upd_word), u1_last.eq(upd_word == Qn - 1)]
            with m.If(upd_word == Qn - 1):
                m.d.sync += upd_active.eq(0)
        m.d.sync += u1_valid.eq(upd_active)

        vbits = self.acc_bits + p.scale_bits + 2
        for lane in range(P):
            js = [q * P + lane for q in range(Qn)]
            a = Cat(*[snap[j] for j in js]).word_select(upd_word, self.acc_bits).as_signed()
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
        ] + [out.u[lane].eq(u1_u[lane]) for lane in range(P)]
        with m.If(u1_valid & u1_last):
            m.d.sync += update_busy.eq(0)
        m.d.comb += self.busy.eq(update_busy)
        return m
