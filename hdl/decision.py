"""What every decision unit shares: its ports and its parameter checks (docs/semantics.md 6)."""

from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import bits_for, neuron_word_layout

__all__ = ["DecisionUnit"]


class DecisionUnit(wiring.Component):
    """Base of the decision units: the output layer's neuron words in, the verdict out.

    Ports: ``neurons`` (always ready), ``clear``, and the registered ``decided``, ``spiked``,
    ``cls``, ``step``. Subclasses (``FirstToSpike``, ``SpikeCount``, ``MaxPotential``) only
    build their rule in ``elaborate``.

    Parameters
    ----------
    n_out, lanes, u_bits, t_max : int
        Output layer size, its lanes and potential width; time steps per inference.
    """

    def __init__(self, *, n_out, lanes, u_bits, t_max):
        contract.check("n_classes", n_out, field="n_out")
        contract.check_lanes(n_out, lanes)
        contract.check("t_max", t_max)
        self.n_out, self.lanes, self.u_bits, self.t_max = n_out, lanes, u_bits, t_max
        self.words = contract.words(n_out, lanes)
        super().__init__({
            "neurons": In(stream.Signature(neuron_word_layout(lanes, u_bits, self.words, t_max), always_ready=True)),
            "clear": In(1),
            "decided": Out(1),
            "spiked": Out(1),
            "cls": Out(bits_for(n_out)),
            "step": Out(bits_for(t_max + 1)),
        })

    @property
    def storage(self):
        """Per-neuron storage of the rule, ``{name: (kind, bits)}`` as the layers'
        ``storage``: none here (running bests and the verdict are a few registers, not
        counted); :class:`~spinaps.hdl.spike_count.SpikeCount` adds its counters."""
        return {}
