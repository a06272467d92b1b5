"""Hardware parallelism an export uses when the user does not choose it (no torch import:
the CLI reads these for its defaults)."""

from spinaps.contract import ceil_div

__all__ = ["DEFAULT_ENCODER_LANES", "default_lanes"]

#: Encoder generators when the user does not choose (``--encoder-lanes``).
DEFAULT_ENCODER_LANES = 8


def default_lanes(n_out: int) -> int:
    """Accumulator lanes of an ``n_out``-neuron layer when the user does not choose.

    Two words per step, at most 16 lanes: with this and :data:`DEFAULT_ENCODER_LANES` the
    digits default (64 -> 10 GLM) fits the iCE40 UP5K with its UART link and runs above
    100 MHz on the ECP5 (bench/results/boards.json); one word per neuron did neither.
    """
    return max(1, min(16, ceil_div(int(n_out), 2)))
