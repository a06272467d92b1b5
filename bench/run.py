"""Benchmarks of the GLM first-to-spike flow: accuracy, cycles, utilization, tool speed.

    python bench/run.py            # digits (k = 1, 2, 4) + mnist5k (k = 1, 4), RTL on 200 samples
    python bench/run.py --quick    # digits k = 4 only, RTL on 100 samples

Writes bench/results/glm.json, bench/results/accuracy_by_step.png and bench/RESULTS.md.
Every number is measured by this run on this machine; nothing is typed in by hand.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run_case(dataset, weight_bits, rtl_n, build, memories, epochs=None):
    from spinaps.sw import artifact as art
    from spinaps.flow import golden_eval, golden_throughput, rtl_check, summarize, train_and_export
    from spinaps.sw.train import GlmTrainConfig

    cfg = GlmTrainConfig(weight_bits=weight_bits, **({"epochs": epochs} if epochs else {}))
    path = build / f"{dataset}_k{weight_bits}.npz"
    t0 = time.perf_counter()
    train_and_export(dataset, path, config=cfg, progress=False, checkpoint=False)
    train_s = time.perf_counter() - t0
    artifact = art.load(path)
    ds, gold, _ = golden_eval(artifact)
    entry = {
        "dataset": dataset, "network": f"{artifact.n_inputs}-{artifact.n_classes} GLM first-to-spike",
        "weight_bits": weight_bits, "train_seconds": train_s,
        "golden_inferences_per_second": golden_throughput(artifact, ds),
    }
    entry.update(summarize(artifact, gold, ds.y_test))
    for memory in memories if rtl_n else []:
        run, cmp, labels = rtl_check(artifact, rtl_n, build_dir=build / f"rtl_{dataset}_{weight_bits}_{memory}",
                                     memory=memory, stall=0.2, dataset=ds)
        r = summarize(artifact, gold, ds.y_test, run, cmp, labels)
        entry[f"rtl_{memory}"] = {k: r[k] for k in (
            "accuracy_rtl", "rtl_samples", "rtl_mismatches", "cycles_per_inference_mean",
            "cycles_per_inference_p99", "lane_utilization", "sim_cycles_per_second")}
        entry[f"rtl_{memory}"]["verilog_and_icarus_build_seconds"] = run.build_s
    return entry


def plot(entries, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for e in entries:
        steps = np.arange(1, len(e["accuracy_by_step"]) + 1)
        ax.plot(steps, e["accuracy_by_step"], marker="o", ms=3, label=f"{e['dataset']} k={e['weight_bits']} (golden)")
        if e.get("accuracy_ann"):
            ax.axhline(e["accuracy_ann"], ls=":", lw=1, color=ax.lines[-1].get_color())
    ax.set_xlabel("decision cut off after step t")
    ax.set_ylabel("test accuracy")
    ax.set_title("First-to-spike accuracy vs time step (dotted: equivalent ANN)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(entries, command, env):
    lines = ["# Benchmark results", "", f"Produced by `{command}` on {env['machine']} "
             f"({env['cores']} cores, Python {env['python']}); every figure below is measured by that run.", "",
             "## GLM first-to-spike (SpinAPS), golden integer model on the test split", "",
             "| dataset | weight bits | float | golden | ANN | by step 4 | mean decision step | train s | golden inf/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        s4 = e["accuracy_by_step"][3] if len(e["accuracy_by_step"]) > 3 else float("nan")
        lines.append(f"| {e['dataset']} | {e['weight_bits']} | {e['accuracy_float']:.4f} | {e['accuracy_golden']:.4f} | "
                     f"{(e['accuracy_ann'] or float('nan')):.4f} | {s4:.4f} ({s4 / e['accuracy_golden']:.0%} of final) | "
                     f"{e['mean_decision_step']:.2f} | {e['train_seconds']:.1f} | {e['golden_inferences_per_second']:,.0f} |")
    lines += ["", "## RTL on Icarus (cocotb, random valid/ready stalls of 20%)", "",
              "| dataset | weight bits | memory | samples | mismatches | RTL accuracy | cycles/inference mean | p99 | lane utilization | simulated cycles/s |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        for mem in ("sram", "sttram"):
            r = e.get(f"rtl_{mem}")
            if r:
                lines.append(f"| {e['dataset']} | {e['weight_bits']} | {mem} | {r['rtl_samples']} | {r['rtl_mismatches']} | "
                             f"{r['accuracy_rtl']:.4f} | {r['cycles_per_inference_mean']:.1f} | {r['cycles_per_inference_p99']:.0f} | "
                             f"{r['lane_utilization']:.3f} | {r['sim_cycles_per_second']:,.0f} |")
    lines += ["", "Lane utilization = synaptic operations / (lanes x cycles); what bounds it: docs/architecture.md.",
              "", "![accuracy vs time step](results/accuracy_by_step.png)", ""]
    return "\n".join(lines)


#: (data set, weight bits, RTL samples, synapse memories) of `make bench`; bench/verification.py
#: verifies the same networks.
CASES = [("digits", 4, 200, ("sram", "sttram")), ("digits", 2, 200, ("sram",)), ("digits", 1, 200, ("sram",)),
         ("mnist5k", 4, 0, ()), ("mnist5k", 1, 0, ())]
QUICK_CASES = [("digits", 4, 100, ("sram",))]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="digits k=4 only, 100 RTL samples")
    p.add_argument("--build", default="build/bench")
    args = p.parse_args(argv)
    build = Path(args.build)
    cases = QUICK_CASES if args.quick else CASES
    entries = []
    for dataset, k, n, mems in tqdm(cases, desc="bench", unit="case"):
        entries.append(run_case(dataset, k, n, build, mems))
    env = {"machine": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()}
    command = "make bench" if not args.quick else "python bench/run.py --quick"
    RESULTS.mkdir(parents=True, exist_ok=True)
    from spinaps.toolchain import atomic_write_text
    atomic_write_text(RESULTS / "glm.json", json.dumps({"command": command, "env": env, "entries": entries}, indent=2) + "\n")
    plot(entries, RESULTS / "accuracy_by_step.png")
    atomic_write_text(HERE / "RESULTS.md", markdown(entries, command, env))
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    sys.exit(main())
