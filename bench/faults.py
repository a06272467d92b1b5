"""STT-RAM write errors: accuracy against write-error rate, and write-verify with its cost.

    python bench/faults.py            # digits + mnist5k, 1- and 4-bit weights, 3-5 fault seeds, RTL checks
    python bench/faults.py --quick    # digits only, 3 fault seeds, one RTL check per network

For each network (GLM first-to-spike, trained here when build/bench_faults/ has no artifact
yet), the weights are loaded into erased STT-RAM memories (every cell 0) through the write
model of docs/semantics.md 9.1 at each write-error rate p (0, then log-spaced up to 0.1), for
several fault seeds, without and with write-verify; the golden model then runs the test split
(digits: all of it; mnist5k: its first 500 samples, see SWEEP) on the faulted weights
(spinaps.sw.write_faults). A few points are confirmed in RTL
(Icarus through cocotb: weights through the accelerator's `weights` stream, stalls on every
stream; spinaps.sim.faults_runner): rtl_mismatches counts samples or write counters that
differ from the golden side. Write-verify's cost: write cycles (semantics 9.1) and energy from
the device table (sim/devices.json, spinaps.sim.write_cost).

Writes bench/results/faults.json, faults.md and faults.png. Every number is measured here.
"""

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parent

RATES = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
RETRIES = 3                 # write-verify: at most 3 re-writes per word
WRITE_LATENCY = 4           # cycles per write attempt (20 ns at the table's 200 MHz)
FAULT_SEEDS = [0x5EED0001 + 7919 * i for i in range(5)]
# Per data set: fault seeds per rate and test samples of the golden sweep (None: the whole
# split). mnist5k's golden model is ~30x slower per sample than digits' on a loaded machine.
SWEEP = {"digits": dict(seeds=5, samples=None), "mnist5k": dict(seeds=3, samples=500)}


def artifact_for(dataset, bits, build):
    """The GLM first-to-spike artifact of ``dataset`` with ``bits``-bit weights (trained once)."""
    from spinaps.flow import train_and_export
    from spinaps.sw import artifact as art
    from spinaps.sw.train import GlmTrainConfig

    path = build / f"{dataset}_k{bits}.npz"
    if not path.exists():
        train_and_export(dataset, path, config=GlmTrainConfig(weight_bits=bits), progress=False, checkpoint=False)
    return art.load(path)


def sweep(model, xs, labels, rates, seeds, devices):
    """Golden accuracy on ``xs`` and load cost per (p, seed), without and with write-verify."""
    from spinaps.contract import sample_seeds
    from spinaps.sim.write_cost import load_cost
    from spinaps.sw import write_faults

    widths = [lp.lanes * lp.weight_bits for lp in model.layers]
    test_seeds = sample_seeds(len(labels))
    accuracy_of = {}        # the same faulted words give the same accuracy: run the golden model once
    points = []
    for retries in (0, RETRIES):
        for p in rates:
            runs = []
            for seed in seeds if p > 0 else seeds[:1]:        # p = 0: no randomness
                words, stats = write_faults.load_network(model, p=p, seed=seed, retries=retries,
                                                         write_latency=WRITE_LATENCY)
                key = hash(tuple(tuple(w) for w in words))
                if key not in accuracy_of:
                    faulted = write_faults.faulted_model(model, words)
                    accuracy_of[key] = faulted.run(xs, test_seeds).accuracy(labels)
                acc = accuracy_of[key]
                cost = load_cost(stats, widths, devices)
                runs.append(dict(fault_seed=seed, accuracy=acc, write_errors=sum(s.write_errors for s in stats),
                                 wrong_cells=sum(s.wrong_cells for s in stats),
                                 retries=sum(s.retries for s in stats), **cost))
            accs = [r["accuracy"] for r in runs]
            points.append(dict(p=p, write_verify_retries=retries, accuracy_mean=float(np.mean(accs)),
                               accuracy_min=float(np.min(accs)), accuracy_max=float(np.max(accs)),
                               accuracy_std=float(np.std(accs)),
                               wrong_cells_mean=float(np.mean([r["wrong_cells"] for r in runs])),
                               write_cycles_mean=float(np.mean([r["write_cycles"] for r in runs])),
                               energy_j_mean=float(np.mean([r["energy_j"] for r in runs])),
                               runs=runs))
    return points


def rtl_point(artifact, ds, p, seed, retries, n, build_dir):
    """One RTL-confirmed point: the first ``n`` test samples, stalls on every stream."""
    from spinaps.contract import sample_seeds
    from spinaps.sim.faults_runner import check_loaded
    from spinaps.sw.golden import GoldenModel

    model = GoldenModel.from_artifact(artifact)
    xs, seeds = ds.x_test[:n], sample_seeds(n)
    t0 = time.perf_counter()
    loaded, faulted = check_loaded(model, xs, seeds, p=p, fault_seed=seed, retries=retries,
                                   write_latency=WRITE_LATENCY, build_dir=build_dir, load_valid_prob=0.8,
                                   valid_prob=0.8, ready_prob=0.8)
    cmp = loaded.comparison
    rtl_cls = np.array([r["cls"] for r in loaded.run.results])
    return dict(dataset=artifact.manifest["dataset"]["name"], weight_bits=max(l["weight_bits"] for l in artifact.layers),
                p=p, fault_seed=seed, write_verify_retries=retries, rtl_samples=n,
                rtl_mismatches=len(cmp.mismatched_samples) + sum(1 for m in cmp.mismatches if m[0] < 0),
                accuracy_rtl=float(np.mean(rtl_cls == ds.y_test[:n])),
                write_counters_rtl=loaded.counters, stall=0.2, simulator=loaded.run.simulator,
                cycles_simulated=loaded.run.sim_cycles, wall_s=time.perf_counter() - t0)


def plot(cases, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({c["dataset"] for c in cases}, key=["digits", "mnist5k"].index)
    fig, axes = plt.subplots(1, len(datasets) + 1, figsize=(5 * (len(datasets) + 1), 4))
    for ax, name in zip(axes, datasets):
        for c in (c for c in cases if c["dataset"] == name):
            for retries, style in ((0, "-o"), (RETRIES, "--s")):
                pts = [q for q in c["points"] if q["write_verify_retries"] == retries]
                x = [max(q["p"], 3e-5) for q in pts]           # p = 0 drawn at the left edge
                label = f"{c['weight_bits']}-bit" + (f", verify R={retries}" if retries else "")
                ax.errorbar(x, [q["accuracy_mean"] for q in pts],
                            yerr=[[max(0.0, q["accuracy_mean"] - q["accuracy_min"]) for q in pts],
                                  [max(0.0, q["accuracy_max"] - q["accuracy_mean"]) for q in pts]],
                            fmt=style, capsize=2, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("write-error rate p (leftmost point: p = 0)")
        ax.set_ylabel("test accuracy (golden model, faulted weights)")
        ax.set_title(f"{name}: GLM first-to-spike")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    for c in cases:
        base = next(q for q in c["points"] if q["p"] == 0 and q["write_verify_retries"] == 0)
        pts = [q for q in c["points"] if q["write_verify_retries"] == RETRIES]
        x = [max(q["p"], 3e-5) for q in pts]
        line, = ax.plot(x, [q["energy_j_mean"] / base["energy_j_mean"] for q in pts], "-o",
                        label=f"{c['dataset']} {c['weight_bits']}-bit: energy")
        ax.plot(x, [q["write_cycles_mean"] / base["write_cycles_mean"] for q in pts], "--^", color=line.get_color(),
                label=f"{c['dataset']} {c['weight_bits']}-bit: write cycles")
    ax.set_xscale("log")
    ax.set_xlabel("write-error rate p (leftmost point: p = 0)")
    ax.set_ylabel(f"load with verify (R={RETRIES}) / plain load at p = 0")
    ax.set_title("write-verify cost")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(out):
    lines = ["| data set | bits | p | accuracy (mean, min-max over seeds) | with verify R=%d | cells left wrong (plain / verify) "
             "| load write cycles (plain / verify) | load energy nJ (plain / verify) |" % RETRIES,
             "|---|---|---|---|---|---|---|---|"]
    for c in out["cases"]:
        plain = [q for q in c["points"] if q["write_verify_retries"] == 0]
        verify = [q for q in c["points"] if q["write_verify_retries"] == RETRIES]
        for a, b in zip(plain, verify):
            lines.append(f"| {c['dataset']} | {c['weight_bits']} | {a['p']:g} | {a['accuracy_mean']:.3f} "
                         f"({a['accuracy_min']:.3f}-{a['accuracy_max']:.3f}) | {b['accuracy_mean']:.3f} "
                         f"| {a['wrong_cells_mean']:.1f} / {b['wrong_cells_mean']:.2f} "
                         f"| {a['write_cycles_mean']:.0f} / {b['write_cycles_mean']:.0f} "
                         f"| {a['energy_j_mean'] * 1e9:.2f} / {b['energy_j_mean'] * 1e9:.2f} |")
    lines += ["", "Plain load at p = 0: every word written once. Verify reads are priced at the table's STT-RAM read "
              "energy, which is twice its write energy per bit, so verifying costs about 3x the energy of a plain load "
              "even without errors.", "", "RTL-confirmed points (weights through the `weights` stream, stalls 0.2 on every stream):", "",
              "| data set | bits | p | fault seed | verify R | samples | rtl_mismatches | accuracy (RTL) | simulator |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in out["rtl"]:
        lines.append(f"| {r['dataset']} | {r['weight_bits']} | {r['p']:g} | {r['fault_seed']:#x} | "
                     f"{r['write_verify_retries']} | {r['rtl_samples']} | {r['rtl_mismatches']} | "
                     f"{r['accuracy_rtl']:.3f} | {r['simulator']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits only, 3 fault seeds, fewer RTL checks")
    ap.add_argument("--build", type=Path, default=ROOT / "build" / "bench_faults")
    ap.add_argument("--only", nargs="+", metavar="DATASET:BITS",
                    help="these networks only (e.g. mnist5k:4): fills their caches under --build, writes no results")
    args = ap.parse_args(argv)
    from spinaps.contract import sample_seeds
    from spinaps.flow import data_for, write_json
    from spinaps.sim.devices import load_devices
    from spinaps.sw import write_faults
    from spinaps.sw.golden import GoldenModel

    args.build.mkdir(parents=True, exist_ok=True)
    devices = load_devices()
    datasets = ["digits"] if args.quick else ["digits", "mnist5k"]
    # RTL checks: (p, seed index, retries, samples) per network; mnist5k's are long on Icarus.
    rtl_plan = {"digits": [(0.01, 0, 0, 40), (0.1, 1, 0, 40), (0.1, 2, RETRIES, 40)],
                "mnist5k": [(0.1, 0, 0, 10)]}
    cases, rtl = [], []
    t_start = time.perf_counter()
    jobs = [(d, b) for d in datasets for b in (1, 4)]
    if args.only:
        jobs = [(d, b) for d, b in jobs if f"{d}:{b}" in args.only]
    for dataset, bits in tqdm(jobs, desc="faults", unit="network"):
        artifact = artifact_for(dataset, bits, args.build)
        ds = data_for(artifact)
        model = GoldenModel.from_artifact(artifact)
        seeds = FAULT_SEEDS[:3] if args.quick else FAULT_SEEDS[:SWEEP[dataset]["seeds"]]
        n = SWEEP[dataset]["samples"] or len(ds.y_test)
        # A sweep already done for this very artifact and plan is reused (the suite reruns the stage).
        plan = dict(artifact_sha256=hashlib.sha256(Path(artifact.path).read_bytes()).hexdigest(), rates=RATES,
                    seeds=seeds, samples=n, retries=RETRIES, write_latency=WRITE_LATENCY)
        cache = args.build / f"sweep_{dataset}_k{bits}.json"
        cached = json.loads(cache.read_text()) if cache.exists() else None
        if cached and cached.get("plan") == plan:
            case = cached["case"]
        else:
            t0 = time.perf_counter()
            points = sweep(model, ds.x_test[:n], ds.y_test[:n], RATES, seeds, devices)
            words = write_faults.network_words(model)
            case = dict(dataset=dataset, weight_bits=bits,
                        network=f"{artifact.n_inputs}-{artifact.n_classes} GLM first-to-spike",
                        accuracy_golden_intended=model.run(ds.x_test[:n], sample_seeds(n)).accuracy(ds.y_test[:n]),
                        test_samples=n, test_split_size=len(ds.y_test), fault_seeds=seeds,
                        memory_words=[len(w) for w in words],
                        memory_cells=int(sum(len(w) * lp.lanes * lp.weight_bits for w, lp in zip(words, model.layers))),
                        sweep_seconds=time.perf_counter() - t0, points=points)
            write_json(cache, dict(plan=plan, case=case))
        cases.append(case)
        for p, si, retries, n in rtl_plan[dataset][:1] if args.quick else rtl_plan[dataset]:
            tag = f"rtl_{dataset}_{bits}_{p:g}_{seeds[si]:x}_{retries}_{n}"
            rtl_plan_key = dict(artifact_sha256=plan["artifact_sha256"], write_latency=WRITE_LATENCY)
            cache = args.build / f"{tag}.json"
            cached = json.loads(cache.read_text()) if cache.exists() else None
            if cached and cached.get("plan") == rtl_plan_key:
                rtl.append(cached["point"])
                continue
            point = rtl_point(artifact, ds, p, seeds[si], retries, n, args.build / tag)
            write_json(cache, dict(plan=rtl_plan_key, point=point))
            rtl.append(point)
    if args.only:
        return 0
    out = {
        "what": "accuracy against STT-RAM write-error rate (docs/semantics.md 9.1): weights loaded into erased "
                "memories, golden model on the faulted weights over each case's test_samples (the first of the test "
                "split); write-verify with at most "
                f"{RETRIES} re-writes; cost from sim/devices.json",
        "rates": RATES, "write_verify_retries": RETRIES, "write_latency_cycles": WRITE_LATENCY,
        "initial_memory": "erased (every cell 0)",
        "energy_model": "every attempt drives every cell of the word (write_energy_pj_per_bit), every verify read "
                        "senses the word (read_energy_pj_per_bit)",
        "cases": cases, "rtl": rtl,
        "quick": args.quick, "seconds": time.perf_counter() - t_start,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
    }
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "faults.json", out)
    (RESULTS / "faults.md").write_text(markdown(out))
    plot(cases, RESULTS / "faults.png")
    bad = [r for r in rtl if r["rtl_mismatches"]]
    if bad:
        print(f"RTL differs from the golden model at {len(bad)} fault points: see bench/results/faults.json",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
