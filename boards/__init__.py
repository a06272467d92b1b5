"""spinaps.boards: board tops, the UART link, the host client and bitstream builds.

``BOARDS`` (from :mod:`spinaps.boards.catalog`, no Amaranth import) is the one list of
supported boards.
"""

from .catalog import BOARDS

__all__ = ["BOARDS"]
