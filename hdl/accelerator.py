"""The accelerator top: sample stream in, encoder -> GLM layer -> first-to-spike, result out."""

from amaranth.hdl import Module, ResetInserter, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .encoder import BernoulliEncoder
from .first_to_spike import FirstToSpike
from .glm_layer import GlmLayer, synapse_words
from .layouts import probe_layout, result_layout
from .synapse_memory import make_synapse_memory

__all__ = ["Accelerator"]


class Accelerator(wiring.Component):
    """Accelerator for one exported model (docs/architecture.md).

    ``sample`` takes one inference as bytes: seed low byte, seed high byte, then the
    ``n_inputs`` intensities. The core then runs until the first-to-spike unit decides
    (early exit) and ``result`` offers class, decision step, decided flag and the counters
    (cycles, events, synaptic operations). ``probe`` (with ``probe_valid``) shows every neuron word of
    the output layer as it is updated (observation only, no ready). ``weights`` writes synapse words
    (address, word) between inferences.

    Latency: ``n_inputs + 2`` beats to load, then the inference; the result is offered the
    cycle after the decision. Backpressure: valid/ready on ``sample``, ``result`` and
    ``weights``; the core waits for ``result`` to be taken before it accepts the next sample.

    Parameters
    ----------
    model : spinaps.sw.golden.GoldenModel
        The integer model (from an artifact).
    memory : str
        Synapse memory kind: ``"sram"`` or ``"sttram"``.
    memory_options : dict
        Extra keyword arguments for the memory (STT-RAM latencies, write-error model).
    """

    def __init__(self, model, *, memory="sram", memory_options=None):
        lp = model.layer
        GlmLayer.check_parameters(lp, model.t_max)    # before anything is sized from them
        self.model = model
        self.n_inputs, self.n_out, self.t_max = lp.n_in, lp.n_out, model.t_max
        self.encoder = BernoulliEncoder(
            n_inputs=lp.n_in, lanes=len(model.encoder_base_seeds), tau=lp.basis.shape[1],
            t_max=model.t_max, base_seeds=[int(s) for s in model.encoder_base_seeds])
        words = synapse_words(lp.weights.tolist(), lp.weight_bits, lp.lanes)
        mem = make_synapse_memory(memory, data_width=lp.lanes * lp.weight_bits, depth=len(words),
                                  init=words, **(memory_options or {}))
        self.layer = GlmLayer(lp, t_max=model.t_max, memory=mem)
        self.decision = FirstToSpike(n_out=lp.n_out, lanes=lp.lanes, u_bits=lp.u_bits, t_max=model.t_max)
        self.memory_kind = memory
        weight_layout = data.StructLayout({"addr": mem.addr_width, "data": mem.data_width})
        super().__init__({
            "sample": In(stream.Signature(8)),
            "result": Out(stream.Signature(result_layout(lp.n_out, model.t_max))),
            # Observation only (no ready, so a plain output rather than a stream).
            "probe": Out(probe_layout(lp.lanes, self.layer.words, model.t_max)),
            "probe_valid": Out(1),
            "weights": In(stream.Signature(weight_layout)),
        })

    def elaborate(self, platform):
        m = Module()
        enc, layer, dec, mem = self.encoder, self.layer, self.decision, self.layer.memory
        core_rst = Signal()
        # Every inference starts from reset state; memories keep their contents.
        m.submodules.encoder = ResetInserter(core_rst)(enc)
        m.submodules.layer = ResetInserter(core_rst)(layer)
        m.submodules.decision = ResetInserter(core_rst)(dec)

        wiring.connect(m, enc.events, layer.events)
        m.d.comb += [
            dec.neurons.valid.eq(layer.neurons.valid),
            dec.neurons.payload.eq(layer.neurons.payload),
            self.probe_valid.eq(layer.neurons.valid),
            self.probe.step.eq(layer.neurons.payload.step),
            self.probe.word.eq(layer.neurons.payload.word),
            self.probe.spikes.eq(layer.neurons.payload.spikes),
        ]

        seed = Signal(16)
        start = Signal()
        cycles = Signal(32)
        res = self.result.payload
        m.d.comb += [enc.seed.eq(seed), enc.start.eq(start), layer.seed.eq(seed), layer.start.eq(start)]

        with m.FSM():
            with m.State("SEED_LO"):
                m.d.comb += self.sample.ready.eq(1)
                m.d.comb += [mem.wr_valid.eq(self.weights.valid), mem.wr_addr.eq(self.weights.payload.addr),
                             mem.wr_data.eq(self.weights.payload.data), self.weights.ready.eq(mem.wr_ready)]
                with m.If(self.sample.valid):
                    m.d.sync += seed[:8].eq(self.sample.payload)
                    m.next = "SEED_HI"
            with m.State("SEED_HI"):
                m.d.comb += self.sample.ready.eq(1)
                with m.If(self.sample.valid):
                    m.d.sync += seed[8:].eq(self.sample.payload)
                    m.next = "LOAD"
            with m.State("LOAD"):
                wiring.connect(m, wiring.flipped(self.sample), enc.sample)
                with m.If(enc.loaded):
                    m.next = "START"
            with m.State("START"):
                m.d.comb += start.eq(1)
                m.d.sync += cycles.eq(1)
                m.next = "RUN"
            with m.State("RUN"):
                m.d.sync += cycles.eq(cycles + 1)
                with m.If(dec.decided):
                    m.d.sync += [
                        res.cls.eq(dec.cls), res.step.eq(dec.step), res.decided.eq(dec.spiked),
                        res.cycles.eq(cycles), res.events.eq(layer.events_total), res.sops.eq(layer.sops_total),
                    ]
                    m.next = "RESULT"
            with m.State("RESULT"):
                m.d.comb += [core_rst.eq(1), self.result.valid.eq(1)]
                with m.If(self.result.ready):
                    m.next = "SEED_LO"
        return m
