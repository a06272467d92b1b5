"""CRC-8/SMBUS of one byte in logic, the gateware side of :func:`spinaps.boards.protocol.crc8`."""

from functools import reduce

from amaranth.hdl import Cat, Value

from .protocol import crc8

__all__ = ["crc8_next"]

# The CRC of one byte is linear over GF(2) in (crc ^ byte): output bit o is the XOR of the
# input bits whose unit vector sets it. Taken from the Python reference, so both agree.
_TAPS = [[i for i in range(8) if crc8([1 << i]) >> o & 1] for o in range(8)]


def crc8_next(crc, byte):
    """The CRC after ``byte``: one XOR tree per output bit (a few LUTs), so a byte is checked
    in the cycle it arrives."""
    x = Value.cast(crc ^ byte)[:8]
    return Cat(*[reduce(lambda a, b: a ^ b, [x[i] for i in taps]) for taps in _TAPS])
