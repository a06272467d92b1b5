"""Pictures of an artifact's golden model: accuracy by step and a spike raster of one sample.

``spinaps report --plot DIR`` draws both (matplotlib, from the ``plots`` extra). The raster
shows the encoder's spikes and every layer's, up to the decision step; a read-out layer that
does not spike (a ``max_potential`` read-out, or one that stayed silent on this sample) shows
its potentials instead, so no panel is empty for a working network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["accuracy_plot", "raster_plot"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")           # files only: no display needed
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    """Save atomically (a temporary file, then a rename): a PNG is whole or absent."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.png")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _title(artifact):
    from spinaps.flow import summarize_network
    return f"{Path(str(artifact.path)).name}: {summarize_network(artifact)} ({artifact.manifest['decision']})"


def accuracy_plot(artifact, gold, path):
    """Golden test accuracy when deciding at each step 1..t_max (``gold.accuracy_by_step``), with
    the float (trained) and ANN accuracies the artifact records as horizontal lines."""
    plt = _pyplot()
    acc = artifact.manifest["accuracy"]
    by_step = np.asarray(gold.accuracy_by_step, dtype=float)
    steps = np.arange(1, len(by_step) + 1)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(steps, by_step, marker="o", ms=3, label="golden model (integer, bit-exact with the RTL)")
    for key, label, style in (("float", "float (trained network)", "--"), ("ann", "ANN", ":"),
                              ("softlif_ann", "soft-LIF ANN", "-.")):
        if acc.get(key) is not None:
            ax.axhline(acc[key], linestyle=style, color="gray" if key == "float" else None,
                       label=f"{label}: {acc[key]:.3f}")
    ax.set_xlabel("decision step (time steps run)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_xlim(0.5, len(by_step) + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(_title(artifact), fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return Path(path)


def raster_plot(artifact, ds, path, sample=0):
    """Encoder and layer spikes of test sample ``sample`` (golden model, the sample's own seed).

    Returns ``{"sample", "label", "class", "decision_step", "potentials_shown",
    "output_panel_px"}``; ``output_panel_px`` is the read-out panel's box in the PNG's pixels
    (left, top, right, bottom), for checks that it is not blank.
    """
    from spinaps.contract import sample_seeds
    from spinaps.sw.golden import GoldenModel

    if not 0 <= sample < len(ds.y_test):
        raise ValueError(f"--sample {sample} is not a test sample: give 0..{len(ds.y_test) - 1}")
    plt = _pyplot()
    model = GoldenModel.from_artifact(artifact)
    res = model.run(ds.x_test[sample:sample + 1], sample_seeds(1, sample))
    step = int(res.step[0])
    layers = artifact.manifest["layers"]
    out_spikes = res.layer_spikes[-1][0][:step]
    show_potentials = artifact.manifest["decision"] == "max_potential" or not out_spikes.any()
    panels = [("input (encoder)", res.input_spikes[0], "spikes")]
    panels += [(f"layer {i} ({layer['type']}, {layer['n_out']})", spikes[0], "spikes")
               for i, (layer, spikes) in enumerate(zip(layers, res.layer_spikes))]
    if show_potentials:
        title = panels[-1][0]
        panels[-1] = (title, res.layer_potentials[-1][0], "potentials")
    ratios = [max(8, p[1].shape[1]) ** 0.5 if p[2] == "spikes" else 4.0 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 1.2 + 1.6 * len(panels)), sharex=True,
                             gridspec_kw={"height_ratios": ratios})
    axes = np.atleast_1d(axes)
    for ax, (title, values, kind) in zip(axes, panels):
        if kind == "spikes":
            t, n = np.nonzero(values[:step])
            ax.scatter(t + 1, n, s=4 if values.shape[1] > 64 else 10, marker="|", color="k")
            ax.set_ylabel("neuron")
            ax.set_ylim(-0.5, values.shape[1] - 0.5)
            ax.set_title(f"{title}: {len(t)} spikes", fontsize=8)
        else:
            pot = values[:step].astype(float)
            for neuron in range(pot.shape[1]):
                chosen = neuron == int(res.cls[0])
                ax.plot(np.arange(1, step + 1), pot[:, neuron], lw=2.2 if chosen else 0.9,
                        color="C3" if chosen else "C0", alpha=1.0 if chosen else 0.5)
            ax.set_ylabel("potential")
            ax.set_title(f"{title}: potentials (no spikes to show; red = class {int(res.cls[0])})", fontsize=8)
    axes[-1].set_xlabel("time step")
    axes[-1].set_xlim(0.5, step + 0.5)
    fig.suptitle(f"{_title(artifact)}\ntest sample {sample} (label {int(ds.y_test[sample])}, "
                 f"class {int(res.cls[0])}, decided at step {step})", fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    fig.canvas.draw()
    box = axes[-1].get_window_extent()
    height = fig.get_size_inches()[1] * fig.dpi
    scale = 120 / fig.dpi             # the PNG is written at 120 dpi
    px = (box.x0 * scale, (height - box.y1) * scale, box.x1 * scale, (height - box.y0) * scale)
    plt.close(fig)
    return {"sample": sample, "label": int(ds.y_test[sample]), "class": int(res.cls[0]), "decision_step": step,
            "potentials_shown": bool(show_potentials), "output_panel_px": [round(v) for v in px]}
