"""Benchmark of the soft-LIF path (Hunsberger & Eliasmith): ANN training, conversion, spiking run.

    python bench/softlif.py            # mnist5k (784 -> 128 -> 10) and digits (64 -> 64 -> 10)
    python bench/softlif.py --quick    # digits only

For each: the ReLU ANN and the soft-LIF ANN of the same shape (test accuracy on rates), and the
converted integer LIF network run as a spiking network in the golden model (Bernoulli inputs,
max-potential read-out) on the whole test split, with accuracy by step. Writes
bench/results/softlif.json and bench/results/softlif.md; every number is measured by this run.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

CASES = [("mnist5k", dict(hidden=(128,), epochs=30)), ("digits", dict(hidden=(64,), epochs=30))]


def run_case(dataset, config):
    from spinaps.sw.datasets import load_dataset
    from spinaps.sw.flow import sample_seeds
    from spinaps.sw.softlif import SoftLifConfig, convert, train_softlif

    ds = load_dataset(dataset)
    cfg = SoftLifConfig(**config)
    t0 = time.perf_counter()
    trained = train_softlif(ds, cfg, progress=False)
    model = convert(trained, ds)
    gold = model.run(ds.x_test, sample_seeds(len(ds.y_test)), labels=ds.y_test)
    sizes = " -> ".join([str(ds.n_in), *map(str, cfg.hidden), str(ds.n_classes)])
    return {
        "dataset": dataset, "network": f"{sizes} soft-LIF -> LIF max-potential", "weight_bits": cfg.weight_bits,
        "t_max": cfg.t_max, "dt_ms": 1000 * cfg.dt, "refractory_steps": cfg.refractory,
        "accuracy_relu_ann": trained.accuracy_relu, "accuracy_softlif_ann": trained.accuracy_softlif,
        "accuracy_golden": gold.accuracy(ds.y_test), "accuracy_by_step": gold.accuracy_by_step,
        "gap_to_softlif_points": 100 * (trained.accuracy_softlif - gold.accuracy(ds.y_test)),
        "events_per_inference_per_layer": gold.events.mean(axis=0).tolist(),
        "sops_per_inference_per_layer": gold.sops.mean(axis=0).tolist(),
        "hidden_spikes_per_neuron_step": [float(s.mean()) for s in gold.layer_spikes[:-1]],
        "thresholds": [int(layer.threshold[0]) for layer in model.layers],
        "seconds": time.perf_counter() - t0, "config": config,
    }


def markdown(entries, command):
    lines = ["# Soft-LIF training run as an integer LIF network (Hunsberger & Eliasmith)", "",
             f"Measured by `{command}`: ANN accuracies on input rates; the converted network in the golden "
             "integer model on the whole test split (Bernoulli inputs, max-potential read-out).", "",
             "| data set | network | k | T | ReLU ANN | soft-LIF ANN | spiking (golden) | gap (points) | accuracy at T/4, T/2 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        t = e["t_max"]
        lines.append(f"| {e['dataset']} | {e['network']} | {e['weight_bits']} | {t} | {e['accuracy_relu_ann']:.3f} | "
                     f"{e['accuracy_softlif_ann']:.3f} | {e['accuracy_golden']:.3f} | {e['gap_to_softlif_points']:.1f} | "
                     f"{e['accuracy_by_step'][t // 4 - 1]:.3f}, {e['accuracy_by_step'][t // 2 - 1]:.3f} |")
    return "\n".join(lines) + "\n"


def run(quick=False):
    cases = [c for c in CASES if c[0] == "digits"] if quick else CASES
    return [run_case(d, c) for d, c in tqdm(cases, desc="soft-LIF", unit="network")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits only")
    args = ap.parse_args(argv)
    from spinaps.hdl.verilog import atomic_write_text
    from spinaps.sw.flow import write_json

    entries = run(args.quick)
    command = "python bench/softlif.py" + (" --quick" if args.quick else "")
    write_json(RESULTS / "softlif.json", entries)
    atomic_write_text(RESULTS / "softlif.md", markdown(entries, command))
    print(markdown(entries, command))


if __name__ == "__main__":
    sys.exit(main())
