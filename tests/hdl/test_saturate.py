"""Amaranth simulator: the neuron updates' saturation logic (hdl/synapse_layer.py) against the
contract's bounds, and the constant masks of spare lanes (neuron words, encoder words)."""

import random

import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from spinaps import contract
from spinaps.hdl.event_encoder import EventEncoder
from spinaps.hdl.synapse_layer import saturate, saturating_add


def _clamp(v, bits):
    lo, hi = contract.potential_bounds(bits)
    return max(lo, min(hi, v))


def _run(m, bench):
    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("width,bits", [(4, 4), (5, 4), (9, 4), (12, 8)])
def test_saturate_is_the_contract_clamp(width, bits):
    m = Module()
    v, out = Signal(signed(width)), Signal(signed(bits))
    m.d.comb += out.eq(saturate(v, bits))

    async def bench(ctx):
        for x in range(-(1 << (width - 1)), 1 << (width - 1)):
            ctx.set(v, x)
            assert ctx.get(out) == _clamp(x, bits), x

    _run(m, bench)


@pytest.mark.parametrize("wide_bits,bits", [(3, 4), (5, 4), (6, 4), (9, 4), (18, 8)])
def test_saturating_add_is_the_clamped_sum(wide_bits, bits):
    """``small`` over its whole range, ``wide`` over its whole range (or 3000 draws with the
    range edges): the clamp of the exact sum, whichever operand decides."""
    m = Module()
    small, wide, out = Signal(signed(bits)), Signal(signed(wide_bits)), Signal(signed(bits))
    m.d.comb += out.eq(saturating_add(small, wide, bits))
    lo, hi = -(1 << (wide_bits - 1)), (1 << (wide_bits - 1)) - 1
    if wide_bits <= 9:
        wides = range(lo, hi + 1)
    else:
        rng = random.Random(wide_bits)
        edges = [lo, hi, 0, -1] + [s * (1 << k) + d for k in range(bits - 1, bits + 3)
                                   for s in (1, -1) for d in (-1, 0, 1)]
        wides = edges + [rng.randint(lo, hi) for _ in range(3000)]
    smalls = range(*(lambda b: (b[0], b[1] + 1))(contract.potential_bounds(bits)))

    async def bench(ctx):
        for w in wides:
            ctx.set(wide, w)
            for s in smalls:
                ctx.set(small, s)
                assert ctx.get(out) == _clamp(s + w, bits), (s, w)

    _run(m, bench)


def test_encoder_input_mask_is_the_index_compare():
    """The event encoder's constant per-word mask equals ``word * G * D + g < n_inputs``."""
    for n_inputs, lanes, gpw in [(64, 8, 2), (10, 4, 2), (13, 8, 1), (5, 4, 1)]:
        enc = EventEncoder(n_inputs=n_inputs, lanes=lanes, tau=1, t_max=4, groups_per_word=gpw,
                           words_out=gpw > 1)
        m = Module()
        word = Signal(range(max(2, enc.words_per_step)))
        bits = [Signal(name=f"in{g}") for g in range(enc.word_lanes)]
        m.d.comb += [b.eq(enc._is_input(word, g)) for g, b in enumerate(bits)]

        async def bench(ctx, enc=enc, word=word, bits=bits):
            for w in range(enc.words_per_step):
                ctx.set(word, w)
                want = [int(w * enc.word_lanes + g < enc.n_inputs) for g in range(enc.word_lanes)]
                assert [ctx.get(b) for b in bits] == want, (enc.n_inputs, w)

        _run(m, bench)
