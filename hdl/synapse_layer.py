"""The event-driven synapse engine shared by the GLM and LIF layers (docs/semantics.md 4, 7-9)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import bits_for, event_layout, neuron_word_layout
from .stream_register import StreamRegister

__all__ = ["SynapseLayer", "synapse_words"]


def synapse_words(weights, weight_bits, lanes):
    """Synapse memory contents for integer weights ``[N_out, N_in, K]`` (semantics section 9)."""
    n_out, n_in, k = len(weights), len(weights[0]), len(weights[0][0])
    qn = contract.words(n_out, lanes)
    bias = contract.weight_max(weight_bits)
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


class SynapseLayer(wiring.Component):
    """Event sequencer, synapse-memory reads and ``lanes`` accumulator lanes of one layer.

    For every ``events`` beat (an active input ``i`` with its history) the layer computes
    the ``K`` traces from its basis, and for each non-zero trace reads synapse row
    ``i*K + k`` (``ceil(n_out/lanes)`` words, one per cycle) and adds ``w * trace`` into the
    lanes (step sums in a two-bank LUT memory: P adders, no per-neuron registers). An
    end-of-step beat swaps the banks and starts the neuron update of the subclass
    (:meth:`elaborate_neurons`), which runs while the next step's events accumulate. Subclasses: ``GlmLayer`` and ``LifLayer``.

    Latency: an event beat is registered on entry (:class:`StreamRegister`, so the
    producer's logic and the sequencer's never share a clock period); a row word is
    accumulated ``memory.read_latency + 3`` cycles after it is issued (the memory's output
    and the product ``w * trace`` are registered before the read-add-write of the step sums);
    the step's sums are readable the cycle after the end-of-step beat leaves that pipeline.
    Backpressure: ``events`` is a valid/ready stream; the layer takes one memory word per
    cycle. It holds an end-of-step beat while the previous step's update is still running or
    while ``hold`` is high (the consumer of ``neurons`` is not ready for a new step, or the
    layer is a step ahead of the decision unit), so at most one step is in the update stage
    and no word is ever dropped.
    ``neurons`` has no ready.

    Counters: ``events_total`` / ``sops_total`` count every step whose end-of-step beat was
    taken (``steps`` of them); ``events_before`` / ``sops_before`` are the totals before the
    latest one, so the top can report exactly the steps up to a decision even when this
    layer has already taken the next step.
    """

    def __init__(self, *, n_in, n_out, lanes, weight_bits, basis, basis_bits, t_max, memory, u_bits):
        contract.check("n_in", n_in)
        contract.check("n_out", n_out)
        contract.check_lanes(n_out, lanes)
        contract.check("t_max", t_max)
        contract.check_choice("weight_bits", weight_bits, contract.WEIGHT_BITS)
        self.n_in, self.n_out, self.lanes, self.t_max = n_in, n_out, lanes, t_max
        self.basis = [[int(a) for a in row] for row in basis]
        self.k, self.tau = len(self.basis), len(self.basis[0])
        self.weight_bits, self.memory = weight_bits, memory
        self.words = contract.words(n_out, lanes)
        depth = n_in * self.k * self.words
        if memory.depth != depth or memory.data_width != lanes * weight_bits:
            raise ValueError(
                f"synapse memory is {memory.depth} x {memory.data_width} bits; this layer needs "
                f"{depth} x {lanes * weight_bits}")
        self.trace_max = contract.trace_max(self.tau, basis_bits)
        self.acc_bits = contract.accumulator_bits(n_in, weight_bits, basis=self.k, tau=self.tau,
                                                  basis_bits=basis_bits)
        super().__init__({
            "events": In(stream.Signature(event_layout(n_in, self.tau))),
            "neurons": Out(stream.Signature(
                neuron_word_layout(lanes, u_bits, self.words, t_max), always_ready=True)),
            "seed": In(contract.SEED_BITS),
            "start": In(1),
            "hold": In(1),            # do not take an end-of-step (consumer busy, or too far ahead)
            "busy": Out(1),           # an end-of-step is in flight or its update is running
            "active": Out(1),         # any work in this cycle (for the busy-cycle counter)
            "steps": Out(bits_for(t_max + 2)),
            "events_total": Out(32),  # events of the steps whose end-of-step was taken
            "sops_total": Out(32),
            "events_before": Out(32),  # ... of all of them but the latest
            "sops_before": Out(32),
        })

    @property
    def storage(self):
        """Storage of the synapse engine: ``{name: (kind, bits)}``, kind ``"ff"``,
        ``"lutram"`` or ``"bram"`` (what the RTL describes: registers, a memory with an
        asynchronous read, a memory with a synchronous read; a synthesis tool may still map a
        small memory otherwise).

        * ``synapse_memory``: the synapse array, ``n_in * K * words`` words of
          ``lanes * weight_bits`` cells (``"bram"``, SRAM and STT-RAM alike; the memory's other
          storage, e.g. the STT-RAM write-error generators, follows as
          ``synapse_memory_<name>``);
        * ``step_sums``: the two-bank LUT memory of step sums, ``2 * words`` words of
          ``lanes * acc_bits`` bits (``"lutram"``);
        * ``step_sums_fresh``: one flag per word and bank, ``2 * words`` flip-flops.

        Pipeline registers, the event register, counters and control are not counted.
        Subclasses add their neuron state.
        """
        held = self.memory.storage
        out = {"synapse_memory": held["array"]}
        out.update({f"synapse_memory_{name}": entry for name, entry in held.items() if name != "array"})
        out["step_sums"] = ("lutram", 2 * self.words * self.lanes * self.acc_bits)
        out["step_sums_fresh"] = ("ff", 2 * self.words)
        return out

    def elaborate_neurons(self, m, step_sums, start, done):
        """Build the neuron update. ``start`` is high for one cycle at the end of a step;
        ``step_sums(addr)`` (call it once) gives the P sums of neuron word ``addr`` of that
        step, combinationally, from the next cycle until the next ``start``. Drive
        ``self.neurons`` word by word and ``done`` high in the cycle the step's last word
        leaves."""
        raise NotImplementedError("SynapseLayer is a base class: use GlmLayer or LifLayer")

    def elaborate(self, platform):
        m = Module()
        mem = self.memory
        P, Qn, K, tau = self.lanes, self.words, self.k, self.tau
        b = self.weight_bits
        m.submodules.memory = mem

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
        tag_read = [Signal(name=f"tag{s}_read") for s in range(L + 3)]
        tag_eos = [Signal(name=f"tag{s}_eos") for s in range(L + 3)]
        tag_word = [Signal(range(max(2, Qn)), name=f"tag{s}_word") for s in range(L + 3)]
        tag_trace = [Signal(cbits, name=f"tag{s}_trace") for s in range(L + 3)]
        for s in range(L + 2):
            m.d.sync += [tag_read[s + 1].eq(tag_read[s]), tag_eos[s + 1].eq(tag_eos[s]),
                         tag_word[s + 1].eq(tag_word[s]), tag_trace[s + 1].eq(tag_trace[s])]

        # Table lookups use word_select (a continuous assign in Verilog): an Array of
        # constants becomes an `always @*` that Icarus does not evaluate at time zero.
        obits = max(1, (K * Qn).bit_length())
        k_offset = Cat(*[Const(kk * Qn, obits) for kk in range(K)]).word_select(lowest, obits)
        trace_now = cur_traces.word_select(lowest, cbits)
        # The tags are continuous assignments, not under the If below: Icarus leaves a
        # combinational block X until one of its inputs changes, and an X read tag would reach
        # the registered old sums through the forwarding multiplexer.
        m.d.comb += [tag_read[0].eq(cur_valid & ~cur_eos), tag_eos[0].eq(cur_valid & cur_eos),
                     tag_word[0].eq(cur_word), tag_trace[0].eq(trace_now)]
        with m.If(cur_valid & ~cur_eos):
            m.d.comb += [mem.rd_en.eq(1), mem.rd_addr.eq(cur_row + k_offset + cur_word)]
            with m.If(last_word):
                m.d.sync += [cur_word.eq(0), cur_pending.eq(pending_after)]
            with m.Else():
                m.d.sync += cur_word.eq(cur_word + 1)
        with m.If(finishing):
            m.d.sync += cur_valid.eq(0)

        # Accept the next event when the current one finishes this cycle.
        m.submodules.event_register = ereg = StreamRegister(self.events.payload.shape())
        m.d.comb += [ereg.i.valid.eq(self.events.valid), ereg.i.payload.eq(self.events.payload),
                     self.events.ready.eq(ereg.i.ready)]
        events = ereg.o
        ev = events.payload
        hist_bits = [ev.hist[lag] for lag in range(tau)]
        traces = []
        for kk in range(K):
            t = Signal(cbits, name=f"trace{kk}")
            terms = [Mux(hist_bits[lag], self.basis[kk][lag], 0) for lag in range(tau) if self.basis[kk][lag]]
            m.d.comb += t.eq(sum(terms) if terms else 0)
            traces.append(t)
        # A trace is non-zero iff a history bit under a non-zero basis entry is set (the basis
        # is unsigned): an OR of a few bits instead of a compare after the trace's adder tree,
        # which keeps the synaptic-op counter off that tree.
        nonzero = Cat(*[Cat(*[hist_bits[lag] for lag in range(tau) if self.basis[kk][lag]]).any()
                        if any(self.basis[kk]) else Const(0, 1) for kk in range(K)])
        step_events, step_sops = Signal(32), Signal(32)
        # Synaptic operations of this event, n_out per non-zero trace: a table over the K
        # non-zero bits (a multiplier here was mapped to a DSP and led the ECP5's longest path).
        sops_inc = Signal(bits_for(K * self.n_out + 1))
        with m.Switch(nonzero):
            for v in range(1 << K):
                with m.Case(v):
                    m.d.comb += sops_inc.eq(bin(v).count("1") * self.n_out)
        m.d.comb += events.ready.eq((~cur_valid | finishing) & ~(ev.eos & (update_busy | self.hold)))
        with m.If(events.valid & events.ready):
            with m.If(ev.eos):
                m.d.sync += [
                    cur_valid.eq(1), cur_eos.eq(1), update_busy.eq(1),
                    self.events_total.eq(self.events_total + step_events),
                    self.sops_total.eq(self.sops_total + step_sops),
                    self.events_before.eq(self.events_total), self.sops_before.eq(self.sops_total),
                    self.steps.eq(self.steps + 1),
                    step_events.eq(0), step_sops.eq(0),
                ]
            with m.Else():
                m.d.sync += [
                    cur_valid.eq(nonzero != 0), cur_eos.eq(0), cur_word.eq(0),
                    cur_row.eq(ev.index * (K * Qn)), cur_traces.eq(Cat(*traces)), cur_pending.eq(nonzero),
                    step_events.eq(step_events + 1), step_sops.eq(step_sops + sops_inc),
                ]

        # --- lanes: accumulate w * trace ----------------------------------------------------------
        # The step sums live in a two-bank memory (one word of P sums per neuron word), not in
        # registers: a bank accumulates while the other is read by the neuron update, and the
        # banks swap at the end of a step. A word's content counts only once it was written in
        # the current step (``fresh``), so neither a swap nor a new inference has to clear it,
        # and only P adders exist whatever the layer size. Reads are asynchronous (LUT RAM on
        # Xilinx, flip-flops and a word multiplexer on the iCE40).
        # The old sums are read one stage ahead of the write (with the product) and registered,
        # so the read multiplexer, the adder and the write-back never share a clock period
        # (on the iCE40 they did: the longest path of small layers, nextpnr). A word written in
        # the write stage while the read stage reads it is forwarded from the adder.
        W = self.acc_bits
        m.submodules.sums = sums = memory.Memory(shape=P * W, depth=2 * Qn, init=[])
        acc_rd, upd_rd, acc_wr = sums.read_port(domain="comb"), sums.read_port(domain="comb"), sums.write_port()
        bank = Signal()                  # the bank that accumulates; the other one is updated
        fresh = [Signal(Qn, name=f"fresh{i}") for i in range(2)]
        out_read, out_eos, out_word = tag_read[L + 2], tag_eos[L + 2], tag_word[L + 2]
        in_word = tag_word[L + 1]        # the read stage
        # Block RAM outputs are slow (5.8 ns clock-to-out on the ECP5, nextpnr): register them.
        rd_q = Signal(P * b)
        m.d.sync += rd_q.eq(mem.rd_data)
        acc_addr = Mux(bank, out_word + Qn, out_word)
        # The read stage's word is written one cycle later, after a bank swap if an end-of-step
        # beat is in the write stage now; that swap also empties the bank (nothing fresh).
        in_bank = bank ^ out_eos
        in_fresh = ~out_eos & Mux(in_bank, fresh[1].bit_select(in_word, 1), fresh[0].bit_select(in_word, 1))
        forward = Signal()
        m.d.comb += forward.eq(out_read & (out_word == in_word))
        new_sums = []
        for lane in range(P):
            code = rd_q[lane * b:(lane + 1) * b]
            w = Signal(signed(b + 1), name=f"w{lane}")
            m.d.comb += w.eq(Cat(Const(1, 1), code) - (1 << b))     # 2*code - (2^b - 1)
            prod = Signal(signed(b + 2 + cbits), name=f"prod{lane}")
            m.d.sync += prod.eq(w * tag_trace[L + 1])      # registered: the multiply stays out of the read-add-write
            old = Signal(signed(W), name=f"old{lane}")
            new_sum = Signal(signed(W), name=f"sum{lane}")
            m.d.comb += new_sum.eq(old + prod)
            m.d.sync += old.eq(Mux(forward, new_sum,
                                   Mux(in_fresh, acc_rd.data[lane * W:(lane + 1) * W].as_signed(), 0)))
            new_sums.append(new_sum)
        m.d.comb += [acc_rd.addr.eq(Mux(in_bank, in_word + Qn, in_word)),
                     acc_wr.addr.eq(acc_addr), acc_wr.data.eq(Cat(*new_sums)), acc_wr.en.eq(out_read)]
        with m.If(out_read):
            with m.If(bank):
                m.d.sync += fresh[1].bit_select(out_word, 1).eq(1)
            with m.Else():
                m.d.sync += fresh[0].bit_select(out_word, 1).eq(1)
        with m.If(out_eos):
            m.d.sync += bank.eq(~bank)
            with m.If(bank):
                m.d.sync += fresh[0].eq(0)
            with m.Else():
                m.d.sync += fresh[1].eq(0)

        def step_sums(addr):
            """The P sums of neuron word ``addr`` of the step being updated (combinational)."""
            m.d.comb += upd_rd.addr.eq(Mux(bank, addr, addr + Qn))
            ok = Mux(bank, fresh[0].bit_select(addr, 1), fresh[1].bit_select(addr, 1))
            return [Mux(ok, upd_rd.data[lane * W:(lane + 1) * W].as_signed(), 0) for lane in range(P)]

        # --- neuron update (subclass) ---------------------------------------------------------
        done = Signal()
        self.elaborate_neurons(m, step_sums, out_eos, done)
        with m.If(done):
            m.d.sync += update_busy.eq(0)
        m.d.comb += [self.busy.eq(update_busy), self.active.eq(cur_valid | update_busy | self.events.valid | events.valid)]
        return m
