"""Export an integer LIF network (an artifact or a golden model) as a NIR graph, so a user can
simulate the quantized network in snnTorch, Norse or any NIR framework (docs/nir.md).

The graph is in the integer scale: each LIF layer becomes ``Affine(W_int, bias_int) ->
LIF(tau = dt * 2^s, r = 2^s, v_leak = 0, v_threshold = threshold - 1/2, v_reset = 0)``, so
one step of NIR's forward-Euler LIF, ``v <- (1 - 2^-s) v + W_int x + bias_int``, is the
contract's ``v - (v >> s) + acc + bias`` without the floor of the shift, and NIR's strict
``v > threshold - 1/2`` is the contract's ``u >= threshold`` on integers. A layer without
leak (``s = 0``) becomes an ``IF`` with ``r = 1``. The input is the encoder's spikes (one per
input and step, probability ``intensity / 256``). What NIR cannot say (the reset by
subtraction, the saturation to ``v_bits``, refractory steps, the read-out, ``t_max``) is kept
in the graph's ``metadata["spinaps"]`` (a JSON string: NIR's HDF5 writer stores no nested
records); :func:`hardware_options` reads them back as the options of
:func:`spinaps.sw.nir_import.nir_to_golden`, which then maps the graph back to the same
integer layers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spinaps.toolchain import atomic_write_bytes

from .checks import real
from .golden import GoldenModel
from .nir_import import require_nir

__all__ = ["to_nir", "write_nir", "hardware_options"]


def to_nir(model, *, dt: float = 1e-3):
    """The NIR graph of a LIF network.

    Parameters
    ----------
    model : GoldenModel or spinaps.sw.artifact.Artifact
        An all-LIF network (a GLM layer has no NIR equivalent and is refused).
    dt : float
        Seconds per step; the LIF time constants are ``dt * 2^leak_shift``.

    Returns
    -------
    nir.NIRGraph
        ``input -> layer0.affine -> layer0.lif -> ... -> output``.
    """
    nir = require_nir()
    real("dt", dt, lo=0, lo_open=True)
    golden = model if isinstance(model, GoldenModel) else GoldenModel.from_artifact(model)
    glm = [i for i, lp in enumerate(golden.layers) if lp.kind != "lif"]
    if glm:
        raise ValueError(f"to_nir: layer {glm[0]} is a GLM layer, which NIR cannot describe; "
                         f"only all-LIF networks (spinaps train --network lif/softlif) export")
    nodes = {"input": nir.Input(input_type={"input": np.array([golden.n_in])})}
    edges, prev, layers = [], "input", []
    for i, lp in enumerate(golden.layers):
        n = lp.n_out
        w = np.asarray(lp.weights, dtype=np.float64)
        theta = np.asarray(lp.threshold, dtype=np.float64) - 0.5
        nodes[f"layer{i}.affine"] = nir.Affine(weight=w, bias=np.asarray(lp.bias, dtype=np.float64))
        if lp.leak_shift:
            scale = float(2 ** lp.leak_shift)
            nodes[f"layer{i}.lif"] = nir.LIF(tau=np.full(n, dt * scale), r=np.full(n, scale),
                                             v_leak=np.zeros(n), v_threshold=theta,
                                             v_reset=np.zeros(n))
        else:
            nodes[f"layer{i}.lif"] = nir.IF(r=np.ones(n), v_threshold=theta, v_reset=np.zeros(n))
        edges += [(prev, f"layer{i}.affine"), (f"layer{i}.affine", f"layer{i}.lif")]
        prev = f"layer{i}.lif"
        layers.append({"reset": lp.reset, "v_bits": int(lp.v_bits), "weight_bits": int(lp.weight_bits),
                       "refractory": int(lp.refractory), "lanes": int(lp.lanes)})
    nodes["output"] = nir.Output(output_type={"output": np.array([golden.layers[-1].n_out])})
    edges.append((prev, "output"))
    resets = {layer["reset"] for layer in layers}
    options = {"t_max": int(golden.t_max), "readout": golden.decision,
               "reset": resets.pop() if len(resets) == 1 else None,
               "encoder_lanes": len(golden.encoder_base_seeds), "frames": int(golden.frames),
               **{key: [layer[key] for layer in layers] for key in ("weight_bits", "v_bits", "lanes")}}
    record = {"dt": dt, "options": options, "layers": layers,
              "input": "Bernoulli spikes, probability intensity/256 per step"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"spinaps": json.dumps(record)},
                        type_check=False)


def hardware_options(graph) -> dict:
    """The :func:`~spinaps.sw.nir_import.nir_to_golden` options a graph written by
    :func:`to_nir` carries (``t_max``, ``readout``, ``reset``, ``weight_bits``, ``v_bits``,
    ``lanes``, ``encoder_lanes``, ``frames``); ``{}`` for any other graph."""
    raw = (getattr(graph, "metadata", None) or {}).get("spinaps")
    if raw is None:
        return {}
    record = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    return {k: v for k, v in record.get("options", {}).items() if v is not None}


def write_nir(path, graph) -> Path:
    """Write a NIR graph atomically (nothing half-written). NIR's default gzip compression
    fails on scalar datasets (docs/nir.md), so it is off."""
    nir = require_nir()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp-nir")
    try:
        nir.write(str(tmp), graph, compression=None)
        atomic_write_bytes(path, tmp.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)
    return path
