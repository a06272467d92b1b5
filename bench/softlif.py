"""Benchmark of the soft-LIF path: soft-LIF ANN -> integer LIF network in the golden model.

    python bench/softlif.py            # digits and mnist5k, default conversion + trade-off sweeps
    python bench/softlif.py --quick    # digits only, a short sweep

For each data set: a ReLU ANN and a soft-LIF ANN of the same shape (Hunsberger & Eliasmith
settings), then the converted spiking network run by the golden model on the test split
(seeds = sample indices). The sweeps vary one conversion parameter at a time around the
defaults (weight bits, T_max, rate percentile, read-out, reset). Writes
bench/results/softlif.json and bench/results/softlif.md. Every number is measured by this
run; nothing is typed in by hand.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

DEFAULTS = {"weight_bits": 4, "t_max": 64, "rate_percentile": 99.0, "readout": "max_potential",
            "reset": "subtract", "leak_shift": None}
SWEEPS = {
    "weight_bits": [1, 2, 4, 8],
    "t_max": [16, 32, 64, 128],
    "rate_percentile": [50.0, 90.0, 99.0, 99.9, 100.0],
    "readout": ["max_potential", "spike_count"],
    "reset": ["subtract", "zero"],
    "leak_shift": [1, 2, 3, 4, 5],           # overrides the percentile rule (the time step)
}
QUICK_SWEEPS = {"weight_bits": [2, 4, 8], "t_max": [32, 64]}
QAT_BITS = [1, 2, 4]                         # quantization-aware soft-LIF training, then convert
QUICK_QAT_BITS = [2]


def _entry(ds, trained, study, options, save_to=None):
    from spinaps.sw import artifact as art
    from spinaps.sw.softlif_convert import convert, evaluate_golden, softlif_artifact

    t0 = time.perf_counter()
    model, info = convert(trained, ds, return_info=True, **options)
    ev = evaluate_golden(model, ds)
    sizes = trained.sizes
    extra = {}
    if save_to is not None:
        # Saving validates the artifact (chaining, widths, reachable thresholds).
        manifest, arrays = softlif_artifact(model, trained, ds, golden_accuracy=ev["accuracy"], info=info)
        extra["artifact"] = str(art.save(save_to, manifest, arrays))
    return extra | {
        "dataset": ds.name,
        "network": "-".join(map(str, sizes)) + " soft-LIF -> LIF (" + options["readout"] + ")",
        "accuracy_ann": trained.accuracy_softlif,
        "study": study,
        "training": "quantization-aware" if trained.config.weight_bits else "float (post-training quantization)",
        "weight_bits": options["weight_bits"],
        "t_max": options["t_max"],
        "rate_percentile": options["rate_percentile"],
        "readout": options["readout"],
        "reset": options["reset"],
        "leak_shift": list(info.leak_shifts),
        "refractory": list(info.refractory),
        "dt_ms": [round(1e3 * d, 4) for d in info.dt_seconds],
        "v_bits": [int(lp.v_bits) for lp in model.layers],
        "accuracy_relu_ann": trained.accuracy_relu,
        "accuracy_softlif_ann": trained.accuracy_softlif,
        "accuracy_golden": ev["accuracy"],
        "gap_to_softlif_points": round(100 * (trained.accuracy_softlif - ev["accuracy"]), 2),
        "accuracy_by_step": ev["accuracy_by_step"],
        "events_per_inference_mean": ev["events_per_inference_mean"],
        "sops_per_inference_mean": ev["sops_per_inference_mean"],
        "events_per_layer_mean": ev["events_per_layer_mean"],
        "sops_per_layer_mean": ev["sops_per_layer_mean"],
        "train_seconds": round(trained.train_seconds, 2),
        "convert_and_golden_seconds": round(time.perf_counter() - t0, 2),
    }


def run(quick=False, build="build/bench"):
    """Train, convert and evaluate; write bench/results/softlif.{json,md}; return the entries.

    The default conversion of each data set is also saved as an artifact under ``build``
    (``softlif_<dataset>.npz``), for RTL checks.
    """
    import torch
    from tqdm import tqdm

    from spinaps.sw.datasets import load_dataset
    from spinaps.sw.softlif import SoftLifConfig, train_softlif

    torch.set_num_threads(1)
    datasets = ["digits"] if quick else ["digits", "mnist5k"]
    sweeps = QUICK_SWEEPS if quick else SWEEPS
    entries = []
    for name in datasets:
        ds = load_dataset(name)
        trained = train_softlif(ds, SoftLifConfig(epochs=15 if quick else SoftLifConfig.epochs), progress=True)
        jobs = [("default", dict(DEFAULTS))]
        for key, values in sweeps.items():
            jobs += [(key, {**DEFAULTS, key: v}) for v in values if v != DEFAULTS[key]]
        for study, options in tqdm(jobs, desc=f"convert {name}", unit="net"):
            save_to = Path(build) / f"softlif_{name}.npz" if study == "default" else None
            entries.append(_entry(ds, trained, study, options, save_to))
        for bits in QUICK_QAT_BITS if quick else QAT_BITS:
            config = SoftLifConfig(epochs=15 if quick else SoftLifConfig.epochs, weight_bits=bits)
            qat = train_softlif(ds, config, progress=True, compare_relu=False)
            qat.accuracy_relu = trained.accuracy_relu       # the same float ReLU twin
            entries.append(_entry(ds, qat, "qat", {**DEFAULTS, "weight_bits": bits}))
    from spinaps.toolchain import atomic_write_text

    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python bench/softlif.py" + (" --quick" if quick else "")
    env = {"machine": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
           "torch": torch.__version__, "torch_threads": 1}
    meta = {"quick": quick, "defaults": DEFAULTS}
    atomic_write_text(RESULTS / "softlif.json", json.dumps(
        {"command": command, "env": env, "defaults": DEFAULTS, "entries": entries}, indent=1) + "\n")
    atomic_write_text(RESULTS / "softlif.md", _markdown(entries, meta))
    return entries


def _markdown(entries, meta):
    lines = ["# Soft-LIF conversion benchmark", "",
             "Generated by `python bench/softlif.py" + (" --quick" if meta["quick"] else "") + "`. "
             "Accuracies on the test split; `golden` is the converted integer LIF network run as a "
             "spiking network by the golden model (seeds = sample indices). Gap = soft-LIF ANN - golden, "
             f"in points. Training `float`: the soft-LIF ANN has float weights, quantized at conversion; "
             "`QAT`: trained with straight-through odd-level weights of the same width (its soft-LIF ANN "
             "accuracy is that of the quantized ANN; the ReLU column is the float ReLU twin). "
             "`leak s` / `ref`: leak shift and refractory steps of the hidden layer. "
             f"Defaults: {meta['defaults']}.", ""]
    head = ("| dataset | study | training | bits | T_max | pct | readout | reset | leak s | ref | ReLU ANN | soft-LIF ANN "
            "| golden | gap | acc@T/4 | acc@T/2 | events | sops |")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for e in entries:
        t = e["t_max"]
        by = e["accuracy_by_step"]
        lines.append(
            f"| {e['dataset']} | {e['study']} | {'QAT' if e['training'].startswith('quant') else 'float'} | {e['weight_bits']} | {t} | {e['rate_percentile']:g} | "
            f"{e['readout']} | {e['reset']} | {','.join(map(str, e['leak_shift']))} | "
            f"{','.join(map(str, e['refractory']))} | {e['accuracy_relu_ann']:.3f} | "
            f"{e['accuracy_softlif_ann']:.3f} | {e['accuracy_golden']:.3f} | {e['gap_to_softlif_points']:+.1f} | "
            f"{by[max(0, t // 4 - 1)]:.3f} | {by[max(0, t // 2 - 1)]:.3f} | "
            f"{e['events_per_inference_mean']:.0f} | {e['sops_per_inference_mean']:.0f} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits only, short sweep")
    args = parser.parse_args()
    for e in run(quick=args.quick):
        print(f"{e['dataset']:8s} {e['study']:15s} k={e['weight_bits']} T={e['t_max']:3d} "
              f"golden={e['accuracy_golden']:.3f} softlif={e['accuracy_softlif_ann']:.3f} "
              f"relu={e['accuracy_relu_ann']:.3f}")
