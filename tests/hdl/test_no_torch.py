"""Generating the Verilog of an accelerator loads no torch: hdl/ imports nothing from
spinaps.sw, and the accelerator takes any object shaped like the golden model."""

import pickle
import subprocess
import sys
import textwrap
from dataclasses import fields
from types import SimpleNamespace

from spinaps.sim.models import random_network

# What the gateware reads of a layer besides its dataclass fields.
_LAYER_PROPERTIES = ("kind", "n_in", "n_out", "lanes", "tau")


def _artifact_like(model):
    """The golden model as plain namespaces of ints, strings and numpy arrays (no torch type)."""
    layers = []
    for lp in model.layers:
        values = {f.name: getattr(lp, f.name) for f in fields(lp)}
        values.update({name: getattr(lp, name) for name in _LAYER_PROPERTIES if hasattr(lp, name)})
        layers.append(SimpleNamespace(**values))
    return SimpleNamespace(t_max=model.t_max, frames=model.frames, decision=model.decision,
                           n_in=model.n_in, encoder_base_seeds=model.encoder_base_seeds,
                           encoder_type=model.encoder_type, encoder_lanes=model.encoder_lanes,
                           layers=tuple(layers))


def test_verilog_generation_loads_no_torch(tmp_path):
    model = random_network(6, sizes=(12, 8, 5), output="glm", lanes=[3, 2], encoder_lanes=4,
                           glm_options=dict(k=2, tau=3))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(_artifact_like(model)))
    script = textwrap.dedent("""
        import pickle, sys
        from spinaps.hdl.accelerator import Accelerator
        from spinaps.toolchain import write_verilog
        model = pickle.loads(open("model.pkl", "rb").read())
        write_verilog(Accelerator(model), ".", "top")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torch" or m.startswith("spinaps.sw"))
        print("LOADED", loaded)
        sys.exit(1 if loaded else 0)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "LOADED []" in run.stdout
    # The same Verilog as from the golden model itself.
    from spinaps.hdl.accelerator import Accelerator
    from spinaps.toolchain import write_verilog

    reference, _ = write_verilog(Accelerator(model), tmp_path / "reference", "top")
    assert (tmp_path / "top.v").read_text() == reference.read_text()
