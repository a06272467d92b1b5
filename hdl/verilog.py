"""Verilog and port metadata for a component (``make verilog``, the cocotb tier, synthesis)."""

import json
import os
from pathlib import Path

from amaranth.back import verilog

__all__ = ["write_verilog", "atomic_write_text"]


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_verilog(component, out_dir, name, extra=None):
    """Write ``<name>.v`` and ``<name>.json`` (ports with widths and directions, plus extra).

    Uses the Yosys bundled with Amaranth (``AMARANTH_USE_YOSYS=builtin``) whatever ``YOSYS``
    says, so the output does not depend on the machine.
    """
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    out_dir = Path(out_dir)
    text = verilog.convert(component, name=name, emit_src=False)
    meta = {"top": name, "signature": component.metadata.as_json()}
    meta.update(extra or {})
    v = atomic_write_text(out_dir / f"{name}.v", text)
    j = atomic_write_text(out_dir / f"{name}.json", json.dumps(meta, indent=2) + "\n")
    return v, j
