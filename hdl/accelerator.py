"""The accelerator top: sample stream in, encoder -> layers -> decision unit, result out."""

import numpy as np
from amaranth.hdl import Module, Mux, ResetInserter, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .deterministic_encoder import DeterministicEncoder
from .encoder import BernoulliEncoder
from .first_to_spike import FirstToSpike
from .glm_layer import GlmLayer
from .layouts import bits_for, probe_layout, result_layout
from .lif_layer import LifLayer
from .max_potential import MaxPotential
from .spike_count import SpikeCount
from .spike_events import SpikeEvents
from .stream_register import StreamRegister
from .synapse_layer import synapse_words
from .synapse_memory import make_synapse_memory
from .window_events import WindowEvents

__all__ = ["Accelerator", "DECISION_UNITS"]

#: The decision unit of each decision rule (docs/semantics.md section 6), in the contract's
#: order of the rules (first to spike, spike count, max potential).
DECISION_UNITS = dict(zip(contract.DECISIONS, (FirstToSpike, SpikeCount, MaxPotential), strict=True))

#: Bytes of the per-inference seed at the head of a sample.
SEED_BYTES = contract.SEED_BITS // 8


# The Amaranth component of each layer type, by contract.LAYER_TYPES ("lif", "glm").
_LAYER_CLASSES = dict(zip(contract.LAYER_TYPES, (LifLayer, GlmLayer), strict=True))


def _layer_tau(lp):
    """History window of a layer's inputs (a LIF layer sees the current spikes only)."""
    return lp.tau if _LAYER_CLASSES[lp.kind] is GlmLayer else 1


def _potential_bits(lp):
    return lp.u_bits if _LAYER_CLASSES[lp.kind] is GlmLayer else lp.v_bits


def _encoder(model, tau, words_out=False):
    """The encoder component of ``model.encoder_type`` (docs/semantics.md 3): both have the
    same ports and emit layer 0's events the same way (``words_out``: its groups' spikes for
    window events, which keep the history, so ``tau`` is 1)."""
    kind = contract.check_choice("encoder_type", model.encoder_type, contract.ENCODER_TYPES)
    common = dict(n_inputs=model.n_in, lanes=int(model.encoder_lanes), tau=1 if words_out else tau,
                  t_max=model.t_max, frames=model.frames, words_out=words_out)
    if contract.encoder_draws(kind):
        # Window mode: two groups per cycle (each generator draws twice per cycle), so that
        # the encoder keeps up with a layer that reads each row once per window.
        per_word = contract.encoder_groups_per_word(kind, model.n_in, int(model.encoder_lanes), 2 if words_out else 1)
        return BernoulliEncoder(base_seeds=[int(s) for s in model.encoder_base_seeds],
                                groups_per_word=per_word, **common)
    return DeterministicEncoder(**common)


def schedule_of(window, adders, n_layers):
    """Per-layer ``(window, adders)`` from an int (every layer) or a sequence per layer,
    checked by :func:`spinaps.contract.check_schedule` (docs/semantics.md 8.1)."""
    def per_layer(name, value):
        if isinstance(value, (list, tuple)):
            if len(value) != n_layers:
                raise ValueError(f"{name}: {len(value)} values for {n_layers} layers; give one number "
                                 f"(every layer) or one per layer")
            return list(value)
        return [value] * n_layers
    windows, adders = per_layer("window", window), per_layer("adders", adders)
    return [contract.check_schedule(w, a, field=f"layer {index}")
            for index, (w, a) in enumerate(zip(windows, adders, strict=True))]


def _layer_weights(lp):
    w = np.asarray(lp.weights)
    return (w if w.ndim == 3 else w[:, :, None]).tolist()


class Accelerator(wiring.Component):
    """Accelerator for one exported model (docs/architecture.md).

    ``sample`` takes one inference as bytes: seed low byte, seed high byte, then the
    ``frames * n_inputs`` intensities. The encoder of ``model.encoder_type`` (Bernoulli or
    deterministic, the same ports) feeds layer 0; every layer's spikes
    become the next layer's events (:class:`~spinaps.hdl.spike_events.SpikeEvents`); the
    output layer's neuron words go to the decision unit of ``model.decision``, which ends
    the inference (early exit for first-to-spike), and ``result`` offers class, decision
    step, decided flag and the counters: total cycles, and per layer events, synaptic
    operations and synapse-word reads (steps 1..step, as the golden model; reads: the windows
    holding them), busy cycles, and the reads and synaptic operations discarded as
    speculative (docs/semantics.md 7). ``probe{l}`` (with
    ``probe{l}_valid``) shows every neuron word of layer ``l`` as it is updated
    (observation only, no ready). ``weights`` writes synapse words (layer, address, word)
    between inferences.

    Storage (bits in flip-flops, LUT RAM and block RAM, as each component reports it; the
    cost model reads it): :attr:`layer_storage`, :attr:`encoder_storage`,
    :attr:`decision_storage`, all together in :attr:`storage`.

    Latency: ``sample_bytes`` beats to load, then the inference; the result is offered the
    cycle after the decision. Backpressure: valid/ready on ``sample``, ``result`` and
    ``weights``; the core waits for ``result`` to be taken before it accepts the next sample.

    Parameters
    ----------
    model : spinaps.sw.golden.GoldenModel
        The integer model (from an artifact).
    memory : str
        Synapse memory kind: ``"sram"`` or ``"sttram"``.
    memory_options : dict
        Extra keyword arguments for the memories (STT-RAM latencies, write-error model).
    window, adders : int or sequence of int
        Window schedule per layer (one number: every layer), docs/semantics.md 8.1: ``window``
        steps per window (``contract.WINDOWS``; 1, the default, is the time-sequential
        engine) and ``adders`` temporal adders per lane (1..window). Hardware parameters,
        not artifact fields: they change cycles and reads, never a spike. A layer with
        ``window > 1`` gets its events from a :class:`~spinaps.hdl.window_events.WindowEvents`
        (layer 0: fed by the encoder a group per cycle; later layers: by the layer before).
        With any window above 1 and a first-to-spike decision, a layer may end its window
        only while it starts no later than the end of the block of the largest window from
        it to the output that holds the decision unit's next undecided step (no deadlock,
        counters exact).
    """

    def __init__(self, model, *, memory="sram", memory_options=None, window=1, adders=1):
        layers = model.layers
        # The structural rules first (GLM only as the output layer, sizes that chain, a
        # decision that needs a LIF output), then each layer's ranges: before anything is
        # sized from them.
        contract.check_network([lp.kind for lp in layers], [(lp.n_in, lp.n_out) for lp in layers],
                               model.decision, model.n_in)
        for lp in layers:
            _LAYER_CLASSES[lp.kind].check_parameters(lp, model.t_max)
        self.model = model
        self.n_inputs, self.frames, self.t_max = model.n_in, model.frames, model.t_max
        self.n_out = layers[-1].n_out
        self.sample_bytes = SEED_BYTES + model.frames * model.n_in
        self.schedule = schedule_of(window, adders, len(layers))
        windows = [w for w, _ in self.schedule]
        self.sequential = max(windows) == 1
        self.encoder = _encoder(model, _layer_tau(layers[0]), words_out=windows[0] > 1)
        # Window mode on layer 0: the encoder gives a group of spikes per cycle and the window
        # events (two banks: the encoder works on the next window meanwhile) make the events.
        self.collector = (WindowEvents(n=model.n_in, lanes=self.encoder.word_lanes, tau=_layer_tau(layers[0]),
                                       window=windows[0], t_max=model.t_max)
                          if windows[0] > 1 else None)
        # How far each layer may run ahead of the decision unit, in steps (see elaborate).
        self.lookahead = [max(windows[index:]) for index in range(len(layers))]
        self.layers, self.links = [], []
        for index, lp in enumerate(layers):
            words = synapse_words(_layer_weights(lp), lp.weight_bits, lp.lanes)
            # An STT-RAM memory learns its layer: its write-error generators are per layer (9.1).
            mem = make_synapse_memory(memory, data_width=lp.lanes * lp.weight_bits, depth=len(words),
                                      init=words, **(memory_options or {}),
                                      **({"layer": index} if memory == "sttram" else {}))
            w, a = self.schedule[index]
            # The consumer's window paces the overlap of a window's steps (hdl/synapse_layer.py);
            # the output layer's consumer, the decision unit, takes every word.
            consumer = windows[index + 1] if index + 1 < len(layers) else None
            self.layers.append(_LAYER_CLASSES[lp.kind](lp, t_max=model.t_max, memory=mem, window=w, adders=a,
                                                       count_depth=2 if self.sequential else self.lookahead[index],
                                                       consumer_window=consumer))
            if index:
                prev = layers[index - 1]
                common = dict(n=prev.n_out, lanes=prev.lanes, tau=_layer_tau(lp), t_max=model.t_max)
                self.links.append(SpikeEvents(u_bits=_potential_bits(prev), **common) if w == 1
                                  else WindowEvents(window=w, **common))
        self.output_layer = self.layers[-1]
        out = layers[-1]
        self.decision = DECISION_UNITS[model.decision](n_out=out.n_out, lanes=out.lanes,
                                                       u_bits=_potential_bits(out), t_max=model.t_max)
        self.memory_kind = memory
        n_layers = len(layers)
        self.weight_width = max(layer.memory.data_width for layer in self.layers)
        weight_layout = data.StructLayout({
            "layer": bits_for(n_layers),
            "addr": max(layer.memory.addr_width for layer in self.layers),
            "data": self.weight_width,
        })
        ports = {
            "sample": In(stream.Signature(8)),
            "result": Out(stream.Signature(result_layout(out.n_out, model.t_max, n_layers))),
            "weights": In(stream.Signature(weight_layout)),
        }
        for index, layer in enumerate(self.layers):
            # Observation only (no ready, so plain outputs rather than streams).
            ports[f"probe{index}"] = Out(probe_layout(layer.lanes, layer.words, model.t_max))
            ports[f"probe{index}_valid"] = Out(1)
        super().__init__(ports)

    @property
    def layer_storage(self):
        """Storage of each layer, input side first: a list of ``{name: (kind, bits)}`` with
        kind ``"ff"``, ``"lutram"`` or ``"bram"``.

        Layer ``l``'s dict is its component's ``storage``
        (:attr:`GlmLayer.storage <spinaps.hdl.glm_layer.GlmLayer.storage>`,
        :attr:`LifLayer.storage <spinaps.hdl.lif_layer.LifLayer.storage>`: synapse memory,
        step sums, neuron state, generators) plus, for ``l >= 1``, the storage of the link
        that makes its events from layer ``l - 1``'s spikes (:attr:`SpikeEvents.storage
        <spinaps.hdl.spike_events.SpikeEvents.storage>`, names prefixed ``events_``). The
        first layer's event source is the encoder: :attr:`encoder_storage`.
        """
        out = [dict(layer.storage) for layer in self.layers]
        for index, link in enumerate(self.links):
            out[index + 1].update({f"events_{name}": entry for name, entry in link.storage.items()})
        return out

    @property
    def encoder_storage(self):
        """The encoder's storage (sample buffer, input histories, generators or accumulators),
        as :attr:`BernoulliEncoder.storage <spinaps.hdl.encoder.BernoulliEncoder.storage>` or
        :attr:`DeterministicEncoder.storage
        <spinaps.hdl.deterministic_encoder.DeterministicEncoder.storage>`; with a window on
        layer 0, also its :attr:`WindowEvents.storage
        <spinaps.hdl.window_events.WindowEvents.storage>` (names ``window_*``; the encoder then
        keeps no history)."""
        out = dict(self.encoder.storage)
        if self.collector is not None:
            out.update(self.collector.storage)
        return out

    @property
    def decision_storage(self):
        """The decision unit's per-neuron storage (spike counters of the spike-count rule;
        empty for the other rules)."""
        return dict(self.decision.storage)

    @property
    def storage(self):
        """Everything above in one dict: ``"encoder.<name>"``, ``"layer<l>.<name>"`` and
        ``"decision.<name>"`` to ``(kind, bits)``."""
        out = {f"encoder.{name}": entry for name, entry in self.encoder_storage.items()}
        for index, layer in enumerate(self.layer_storage):
            out.update({f"layer{index}.{name}": entry for name, entry in layer.items()})
        out.update({f"decision.{name}": entry for name, entry in self.decision_storage.items()})
        return out

    def probe(self, index):
        """``(payload, valid)`` of layer ``index``'s probe port."""
        return getattr(self, f"probe{index}"), getattr(self, f"probe{index}_valid")

    def elaborate(self, platform):
        m = Module()
        enc, dec = self.encoder, self.decision
        core_rst = Signal()
        # Every inference starts from reset state; memories keep their contents.
        m.submodules.encoder = ResetInserter(core_rst)(enc)
        m.submodules.decision = ResetInserter(core_rst)(dec)
        if self.collector is not None:
            m.submodules.collector = ResetInserter(core_rst)(self.collector)
        for index, layer in enumerate(self.layers):
            m.submodules[f"layer{index}"] = ResetInserter(core_rst)(layer)
        for index, link in enumerate(self.links):
            m.submodules[f"link{index}"] = ResetInserter(core_rst)(link)

        out = self.layers[-1]
        # A register between the output layer and the decision unit: it cuts the path from the
        # GLM lanes' draw-and-compare through the lane argmax (the Fmax-limiting path, measured
        # by nextpnr) at the cost of one cycle per inference.
        dec_valid = Signal()
        dec_word = Signal.like(out.neurons.payload, reset_less=True)     # read only while dec_valid
        m.d.sync += [dec_valid.eq(out.neurons.valid & ~core_rst), dec_word.eq(out.neurons.payload)]
        m.d.comb += [dec.neurons.valid.eq(dec_valid), dec.neurons.payload.eq(dec_word)]
        # Steps the decision unit has received. No layer may take the end of step s + 2 before
        # the decision unit has received step s, so when it decides at step s every layer has
        # taken step s or s + 1 and its counters for steps 1..s are `*_total` or `*_before`.
        dec_steps = Signal(range(self.model.t_max + 3))
        dec_steps_p1 = Signal(range(self.model.t_max + 4), init=1)     # dec_steps + 1, kept beside it
        dec_step_in = dec_valid & dec_word.last
        with m.If(dec_step_in):
            m.d.sync += [dec_steps.eq(dec_steps_p1), dec_steps_p1.eq(dec_steps_p1 + 1)]
        with m.If(core_rst):
            m.d.sync += [dec_steps.eq(0), dec_steps_p1.eq(1)]
        if self.model.decision not in contract.EARLY_EXIT_DECISIONS:
            # Every step runs (docs/semantics.md 6.2, 6.3): the decision is at t_max and the
            # counters are the totals, so no layer need wait for the decision unit; the links'
            # flow control alone paces them.
            ahead = [0] * len(self.layers)
        elif self.sequential:
            # `layer.steps > dec_steps` as a register (the compare straight into the layers'
            # enables was the UP5K's longest path, nextpnr), computed with the decision unit's
            # next count (two compares of registers, no adder), so it is exact in every cycle but
            # the one right after a layer took an end of step; in that cycle the layer's own
            # update_busy holds the next one anyway (SynapseLayer sets it with `steps`), so no
            # layer takes a step a cycle earlier or later than before.
            ahead = [Signal(name=f"ahead{index}") for index in range(len(self.layers))]
            for flag, layer in zip(ahead, self.layers):
                m.d.sync += flag.eq(~core_rst & Mux(dec_step_in, layer.steps > dec_steps_p1, layer.steps > dec_steps))
        else:
            ahead = self._window_ahead(m, dec, dec_step_in, core_rst)

        if self.collector is None:
            wiring.connect(m, enc.events, self.layers[0].events)
        else:
            wiring.connect(m, enc.words, self.collector.words)
            wiring.connect(m, self.collector.events, self.layers[0].events)
        for index, layer in enumerate(self.layers):
            link_busy = self.links[index].busy if index < len(self.links) else 0
            m.d.comb += layer.hold.eq(link_busy | ahead[index])
            if index < len(self.links):
                link = self.links[index]
                # A per-step link is busy from a step's first word: the next step of a window
                # waits until its events are out (a window link's busy covers its arrival).
                m.d.comb += layer.pause.eq(link.busy | (link.neurons.valid if isinstance(link, SpikeEvents) else 0))
            m.d.comb += layer.decision_step.eq(dec.step)
        for index, link in enumerate(self.links):
            up, down = self.layers[index], self.layers[index + 1]
            if isinstance(link, SpikeEvents):
                m.d.comb += [link.neurons.valid.eq(up.neurons.valid), link.neurons.payload.eq(up.neurons.payload)]
            else:
                # The producer never sends while the link is busy (hold and pause above).
                w = up.neurons.payload
                m.d.comb += [link.words.valid.eq(up.neurons.valid), link.words.payload.word.eq(w.word),
                             link.words.payload.last.eq(w.last), link.words.payload.spikes.eq(w.spikes)]
            wiring.connect(m, link.events, down.events)
        for index, layer in enumerate(self.layers):
            probe, valid = self.probe(index)
            m.d.comb += [valid.eq(layer.neurons.valid), probe.step.eq(layer.neurons.payload.step),
                         probe.word.eq(layer.neurons.payload.word), probe.spikes.eq(layer.neurons.payload.spikes)]

        seed = Signal(contract.SEED_BITS)
        start = Signal()
        cycles = Signal(32)
        busy = [Signal(32, name=f"busy{index}") for index in range(len(self.layers))]
        res = self.result.payload
        m.d.comb += [enc.seed.eq(seed), enc.start.eq(start)]
        for layer in self.layers:
            m.d.comb += [layer.seed.eq(seed), layer.start.eq(start)]

        # Synapse writes between inferences, routed by layer.
        wr = self.weights
        for layer in self.layers:
            mem = layer.memory
            m.d.comb += [mem.wr_addr.eq(wr.payload.addr), mem.wr_data.eq(wr.payload.data[:mem.data_width])]

        # The sample bytes pass a stream register: the encoder's load (its buffer's write
        # enables) then starts from flip-flops, not from the link's logic (UP5K, 48 MHz).
        # ``sample.ready`` stays what the link reads as idle: high only while the accelerator
        # takes a sample (the seed, then until the encoder is loaded).
        m.submodules.sample_register = sreg = StreamRegister(8)
        accepting = Signal()
        m.d.comb += [sreg.i.valid.eq(self.sample.valid & accepting), sreg.i.payload.eq(self.sample.payload),
                     self.sample.ready.eq(sreg.i.ready & accepting)]
        sample = sreg.o
        # In LOAD, as a flip-flop of its own: the encoder's beat waits on it, not on a decode of
        # the state register (UP5K, 48 MHz).
        loading = Signal()
        m.d.comb += [enc.sample.valid.eq(sample.valid & loading), enc.sample.payload.eq(sample.payload)]
        with m.FSM() as fsm:
            with m.State("SEED_LO"):
                m.d.comb += sample.ready.eq(1)
                with m.If(sample.valid):
                    m.d.sync += seed[:8].eq(sample.payload)
                    m.next = "SEED_HI"
            with m.State("SEED_HI"):
                m.d.comb += sample.ready.eq(1)
                with m.If(sample.valid):
                    m.d.sync += [seed[8:].eq(sample.payload), loading.eq(1)]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += sample.ready.eq(enc.sample.ready)
                with m.If(enc.loaded):
                    m.d.sync += loading.eq(0)
                    m.next = "START"
            with m.State("START"):
                m.d.comb += start.eq(1)
                m.d.sync += [cycles.eq(1)] + [b.eq(0) for b in busy]
                m.next = "RUN"
            with m.State("RUN"):
                m.d.sync += cycles.eq(cycles + 1)
                for b, layer in zip(busy, self.layers):
                    with m.If(layer.active):
                        m.d.sync += b.eq(b + 1)
                with m.If(dec.decided):
                    m.d.sync += [res.cls.eq(dec.cls), res.step.eq(dec.step), res.decided.eq(dec.spiked),
                                 res.cycles.eq(cycles)]
                    for index, layer in enumerate(self.layers):
                        # A layer may have taken later steps already: its counters give steps
                        # 1..step only (``decision_step``), and the rest as discarded work.
                        m.d.sync += [
                            res.events[index].eq(layer.count_events), res.sops[index].eq(layer.count_sops),
                            res.reads[index].eq(layer.count_reads), res.busy[index].eq(busy[index]),
                            res.discarded_reads[index].eq(layer.discarded_reads),
                            res.discarded_sops[index].eq(layer.discarded_sops),
                        ]
                    m.next = "RESULT"
            with m.State("RESULT"):
                m.d.comb += self.result.valid.eq(1)
                with m.If(self.result.ready):
                    m.next = "SEED_LO"
        # Plain expressions, not assignments inside the FSM: Icarus evaluates an FSM's
        # combinational block only once one of its inputs changes, so core_rst (and every layer
        # register reset by it) and the write handshakes would be X while the core waits in
        # SEED_LO from reset, e.g. during a weight load before the first sample.
        m.d.comb += core_rst.eq(fsm.ongoing("RESULT"))
        m.d.comb += accepting.eq(fsm.ongoing("SEED_LO") | fsm.ongoing("SEED_HI") | (fsm.ongoing("LOAD") & ~enc.loaded))
        # Synapse writes are taken between inferences only (SEED_LO); a beat for a layer that
        # does not exist is dropped, never stuck.
        between = fsm.ongoing("SEED_LO")
        taken = wr.payload.layer >= len(self.layers)
        for index, layer in enumerate(self.layers):
            selected = wr.payload.layer == index
            m.d.comb += layer.memory.wr_valid.eq(wr.valid & selected & between)
            taken = taken | (selected & layer.memory.wr_ready)
        m.d.comb += wr.ready.eq(between & taken)
        return m

    def _window_ahead(self, m, dec, received, core_rst):
        """Per layer, high when it must not end another window (a window schedule).

        ``resolved`` counts the steps the decision unit has received and had ``latency``
        cycles to decide on, so at a decision on step ``s`` it is at most ``s - 1``. Layer
        ``l`` (window ``W``) ends its window ``v`` only if ``v * W`` is below the end of the
        block of ``lookahead[l]`` steps (the largest window from ``l`` to the output) that
        holds step ``resolved + 1``: every layer can then make the next step the decision
        unit needs (no deadlock), and at a decision on ``s`` no layer has taken a step past
        the block of ``s``, which its counter ring of ``lookahead[l]`` steps still holds.
        """
        delay = getattr(dec, "latency", 1)
        line = [Signal(name=f"received_d{i}") for i in range(delay)]
        m.d.sync += line[0].eq(received & ~core_rst)
        for i in range(1, delay):
            m.d.sync += line[i].eq(line[i - 1] & ~core_rst)
        resolved = Signal(range(self.model.t_max + 2))
        with m.If(line[-1]):
            m.d.sync += resolved.eq(resolved + 1)
        with m.If(core_rst):
            m.d.sync += resolved.eq(0)
        ahead = []
        for index, layer in enumerate(self.layers):
            w, block = self.schedule[index][0], self.lookahead[index]
            shift = block.bit_length() - 1
            limit = ((resolved >> shift) + 1) << shift
            ahead.append(layer.steps * w >= limit)
        return ahead
