"""Stream payload layouts shared by the RTL, the Amaranth tests, cocotb and the host link.

``pack`` / ``unpack`` turn a layout's fields into the integer seen on a Verilog port and
back, from the layout itself, so no tier re-derives bit offsets by hand.
"""

from amaranth.hdl import Shape
from amaranth.lib import data

__all__ = ["bits_for", "event_layout", "spike_word_layout", "neuron_word_layout", "result_layout", "probe_layout",
           "pack", "unpack"]


def bits_for(n):
    """Bits of an unsigned field that holds 0..n-1 (at least 1)."""
    return max(1, (n - 1).bit_length())


def event_layout(n_inputs, tau):
    """An encoder event: an active input and its spike history, or an end-of-step marker.

    In window mode (docs/semantics.md 8.1) ``tau`` is ``W + tau - 1`` history bits, lag 0
    being the window's last step, and ``eos`` ends the window."""
    return data.StructLayout({
        "index": bits_for(n_inputs),  # input index (ignored when eos)
        "hist": tau,                  # bit l = spike at lag l (lag 0 = this step)
        "eos": 1,                     # end of the current time step
    })


def spike_word_layout(lanes, n_words):
    """One word of a step's spikes (``lanes`` inputs or neurons), the input of the window
    events (docs/semantics.md 8.1): the encoder's group of a step, or a layer's neuron word
    without its potentials."""
    return data.StructLayout({
        "word": bits_for(n_words),
        "last": 1,                    # last word of the step
        "spikes": lanes,
    })


def neuron_word_layout(lanes, u_bits, n_words, t_max):
    """One word of neuron results (``lanes`` neurons) after the update of a step."""
    return data.StructLayout({
        "step": bits_for(t_max + 1),
        "word": bits_for(n_words),
        "last": 1,                    # last word of the step
        "spikes": lanes,
        "u": data.ArrayLayout(signed_shape(u_bits), lanes),
    })


def result_layout(n_classes, t_max, n_layers=1):
    """What the accelerator returns per inference; counters per layer (input side first)."""
    return data.StructLayout({
        "cls": bits_for(n_classes),
        "step": bits_for(t_max + 1),
        "decided": 1,                 # 0: no output spike by T_max (argmax of u)
        "cycles": 32,
        "events": data.ArrayLayout(32, n_layers),   # semantics section 7, steps 1..step
        "sops": data.ArrayLayout(32, n_layers),
        "busy": data.ArrayLayout(32, n_layers),     # cycles with work in the layer (hardware only)
        "reads": data.ArrayLayout(32, n_layers),    # synapse word reads, windows of steps 1..step
        "discarded_reads": data.ArrayLayout(32, n_layers),   # speculative work (hardware only)
        "discarded_sops": data.ArrayLayout(32, n_layers),
    })


def probe_layout(lanes, n_words, t_max):
    """Observation port: the output spikes of one neuron word, for tests and rasters."""
    return data.StructLayout({
        "step": bits_for(t_max + 1),
        "word": bits_for(n_words),
        "spikes": lanes,
    })


def signed_shape(width):
    return Shape(width, signed=True)


def _elements(layout):
    """(name, offset, shape, count) per field; arrays of scalars give count > 1."""
    for name, field in layout:
        if isinstance(field.shape, data.ArrayLayout):
            yield name, field.offset, Shape.cast(field.shape.elem_shape), field.shape.length
        else:
            yield name, field.offset, Shape.cast(field.shape), None


def pack(layout, values):
    """Integer for a payload; ``values`` maps field names to ints (arrays: lists of ints)."""
    word = 0
    for name, offset, shape, count in _elements(layout):
        v = values.get(name, 0)
        items = list(v) if count is not None else [v]
        mask = (1 << shape.width) - 1
        for e, x in enumerate(items):
            word |= (int(x) & mask) << (offset + e * shape.width)
    return word


def unpack(layout, word):
    """Field values of a payload integer (arrays as lists, signed fields sign-extended)."""
    word = int(word)
    out = {}
    for name, offset, shape, count in _elements(layout):
        vals = []
        for e in range(count or 1):
            x = (word >> (offset + e * shape.width)) & ((1 << shape.width) - 1)
            if shape.signed and x >> (shape.width - 1):
                x -= 1 << shape.width
            vals.append(x)
        out[name] = vals if count is not None else vals[0]
    return out
