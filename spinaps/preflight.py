"""Checks a CLI command runs on its options before any training, simulation or synthesis.

Each check raises :class:`OptionError` (a ``ValueError``: the CLI prints it as one line and
exits 2) naming the option, the value and what to do. Nothing here leaves anything on disk: an output
path is writable when it, or the nearest folder above it that exists, is a folder in which a
file can be created (probed with an unnamed temporary file, which leaves nothing behind); the
folders in between are created only by the command that writes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["OptionError", "at_least", "out_file", "out_dir", "in_file", "open_board", "baud"]


class OptionError(ValueError):
    """A command-line option is invalid; the message names it and says what to do."""


def at_least(option: str, value, lo: int, what: str = ""):
    """``value`` if it is an integer >= ``lo``."""
    if value is None or isinstance(value, bool) or int(value) != value or value < lo:
        hint = f" ({what})" if what else ""
        raise OptionError(f"{option} {value}: give a whole number >= {lo}{hint}")
    return value


def _existing_ancestor(path: Path) -> Path:
    p = path
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    return p


def _writable_dir(option: str, folder: Path, path: Path):
    base = _existing_ancestor(folder)
    if not base.is_dir():
        raise OptionError(f"{option} {path}: {base} is a file, not a folder; choose another {option}")
    # A real probe (an unnamed temporary file, gone when closed): permission bits say nothing
    # for root, nor for read-only file systems.
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as e:
        raise OptionError(f"{option} {path}: cannot write in the folder {base} ({e.strerror or e}); choose another "
                          f"{option} or fix its permissions") from None


def out_file(option: str, path, *, force: bool | None = None, force_option: str = "--force") -> Path:
    """An output file: not a folder, its folder writable or creatable; with ``force=False`` also
    not existing yet (``force=None``: overwriting is fine)."""
    path = Path(path)
    if path.is_dir():
        raise OptionError(f"{option} {path}: is a folder; give a file name")
    if path.exists():
        if force is False:
            raise OptionError(f"{option} {path}: the file exists; pass {force_option} to overwrite it or "
                              f"choose another {option}")
        if not os.access(path, os.W_OK):
            raise OptionError(f"{option} {path}: the file is not writable by this user; choose another {option}")
    _writable_dir(option, path.parent, path)
    return path


def out_dir(option: str, path) -> Path:
    """An output folder: a writable folder, or one that can be created."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OptionError(f"{option} {path}: is a file, not a folder; choose another {option}")
    _writable_dir(option, path, path)
    return path


def in_file(option: str, path, what: str = "") -> Path:
    """An input file that exists and can be read."""
    path = Path(path)
    hint = f"; {what}" if what else ""
    if not path.is_file():
        raise OptionError(f"{option} {path}: no such file{hint}")
    if not os.access(path, os.R_OK):
        raise OptionError(f"{option} {path}: not readable by this user{hint}")
    return path


def open_board(option: str, name: str, catalog) -> str:
    """A board with a bitstream through the open flow here; the Vivado plan named otherwise."""
    if name not in catalog:
        raise OptionError(f"{option} {name!r} is not one of {', '.join(catalog)}")
    if not catalog[name].open_flow:
        raise OptionError(f"{option} {name}: no open place-and-route for this board here; build its Vivado "
                          f"archive with `spinaps vivado-plan --board {name}` (make vivado-plan BOARD={name})")
    return name


def baud(option: str, value, clock_mhz: float | None, min_cpb: int, max_cpb: int) -> int:
    """A baud rate the UART can run from a ``clock_mhz`` clock: positive, an integer number
    ``min_cpb..max_cpb`` of clocks per bit within 2 % (the board top's rule)."""
    if value is None or int(value) != value or value < 1:
        raise OptionError(f"{option} {value}: give a positive line rate, e.g. 115200")
    if clock_mhz:
        hz = clock_mhz * 1e6
        cpb = round(hz / value)
        if cpb < min_cpb or cpb > max_cpb or abs(hz / cpb / value - 1) > 0.02:
            lo, hi = int(hz / max_cpb) + 1, int(hz / min_cpb)
            raise OptionError(f"{option} {value}: a {clock_mhz:g} MHz core clock needs a rate between {lo} and "
                              f"{hi} within 2 % of clock / integer; e.g. 115200")
    return int(value)


def per_layer(option: str, text):
    """``"4"`` -> 4, ``"4,2"`` -> (4, 2): one value for every layer, or one per layer
    (input side first). ``None`` stays ``None``."""
    if text is None or isinstance(text, (int, tuple)):
        return text
    try:
        values = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise OptionError(f"{option} {text!r}: give a whole number, or one per layer separated by commas "
                          f"(e.g. 4 or 4,2)") from None
    return values[0] if len(values) == 1 else values
