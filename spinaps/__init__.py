"""spinaps: trained spiking neural networks to verified FPGA/ASIC accelerators.

The public Python API (docs/api.md) is :mod:`spinaps.api`; its names are importable from here
(``spinaps.load``, ``spinaps.train``, ``spinaps.HardwareModel``) without loading torch until
one of them is used, so that ``import spinaps.hdl`` stays light.
"""

__version__ = "0.1.0"

_API = ("HardwareModel", "Trace", "VerifyReport", "load", "train", "BUILD_TARGETS")


def __getattr__(name):
    if name in _API:
        from spinaps import api
        return getattr(api, name)
    raise AttributeError(f"module 'spinaps' has no attribute {name!r}")
