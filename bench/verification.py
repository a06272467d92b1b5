"""Every test sample of every benchmark network in RTL, against the golden model, plus the soak.

    python bench/verification.py             # every network of the other stages, full test splits
    python bench/verification.py --quick     # digits only, small subsets
    python bench/verification.py --train-only  # only make the artifacts that are missing

Networks: the ones bench/run.py (GLM first-to-spike), bench/networks.py (hybrid and all-LIF)
and bench/softlif.py (soft-LIF conversion) build, read from their build folders when present
and trained here with the stages' own configurations when absent. For each network: the
whole test split on Verilator (one compiled model, the split in batches) with random
valid/ready stalls on the sample and result streams, every spike of every layer compared with
the golden model; plus a small subset on Icarus, the simulator comparison row. Then the soak:
10,000 inferences back to back through one simulated digits accelerator (one simulation).
Writes bench/results/verification.json and bench/results/verification.md.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))        # the other stages' modules, for their configurations

STALL = 0.2
ICARUS_SAMPLES = 20                  # the Icarus comparison subset per network
QUICK_SAMPLES = 60                   # --quick: digits subsets
SOAK_INFERENCES = 10_000


@dataclass
class Network:
    tag: str             # artifact file stem, as the stage names it
    dataset: str
    kind: str            # GLM, hybrid, all-LIF, soft-LIF
    path: Path
    train: object        # () -> None: trains and writes ``path`` with the stage's configuration


def networks(quick=False):
    """The benchmark networks, in the order the other stages build them."""
    import networks as stage_networks
    import run as stage_run
    import softlif as stage_softlif

    out = []
    for dataset, k, *_ in stage_run.CASES:
        path = ROOT / "build" / "bench" / f"{dataset}_k{k}.npz"
        out.append(Network(f"{dataset}_k{k}", dataset, "GLM", path, lambda d=dataset, k=k, p=path: _train_glm(d, k, p)))
    for dataset, config, _ in stage_networks.CASES:
        from spinaps.sw.lif import LifNetConfig
        cfg = LifNetConfig(**config)
        tag = f"{dataset}_{cfg.output}_{cfg.decision}_{'x'.join(map(str, cfg.hidden))}"
        path = ROOT / "build" / "bench_networks" / f"{tag}.npz"
        kind = "hybrid" if cfg.output == "glm" else "all-LIF"
        out.append(Network(tag, dataset, kind, path, lambda d=dataset, c=cfg, p=path: _train_network(d, c, p)))
    for dataset in ("digits", "mnist5k"):
        path = ROOT / "build" / "bench" / f"softlif_{dataset}.npz"
        out.append(Network(f"softlif_{dataset}", dataset, "soft-LIF", path,
                           lambda d=dataset, p=path: _train_softlif(stage_softlif, d, p)))
    if quick:
        out = [n for n in out if n.dataset == "digits"][:2]
    return out


def _train_glm(dataset, k, path):
    from spinaps.flow import train_and_export
    from spinaps.sw.train import GlmTrainConfig
    train_and_export(dataset, path, config=GlmTrainConfig(weight_bits=k), progress=False, checkpoint=False)


def _train_network(dataset, cfg, path):
    from spinaps.flow import train_network_and_export
    train_network_and_export(dataset, path, config=cfg, progress=False, checkpoint=False)


def _train_softlif(stage, dataset, path):
    from spinaps.sw.datasets import load_dataset
    from spinaps.sw.softlif import SoftLifConfig, train_softlif
    ds = load_dataset(dataset)
    trained = train_softlif(ds, SoftLifConfig(), progress=False)
    stage._entry(ds, trained, "default", dict(stage.DEFAULTS), save_to=path)


def ensure(net, log=print):
    """The network's artifact: the stage's file when present, else trained now."""
    if not net.path.exists():
        log(f"{net.tag}: no {net.path.relative_to(ROOT)}; training it with its stage's configuration")
        t0 = time.perf_counter()
        net.path.parent.mkdir(parents=True, exist_ok=True)
        net.train()
        log(f"{net.tag}: trained in {time.perf_counter() - t0:.0f} s")
    from spinaps.sw import artifact as art
    return art.load(net.path)


def _describe(artifact):
    from spinaps.flow import summarize_network
    return f"{summarize_network(artifact)} {artifact.decision}"


def check(net, artifact, simulator, limit, build, log=print):
    """One row: ``limit`` test samples (None: the whole split) of ``net`` on ``simulator``."""
    from spinaps.data import data_for
    from spinaps.flow import rtl_check_all

    ds = data_for(artifact, None)
    n = ds.n_test if limit is None else min(limit, ds.n_test)
    t0 = time.perf_counter()

    def progress(done, total, run):
        log(f"  {net.tag} {simulator}: {done}/{total} samples, {run.mismatches} mismatched, "
            f"{run.cycles_per_second:,.0f} cycles/s, {time.perf_counter() - t0:.0f} s")

    # Icarus compiles in a second but starts slowly: its subset is one simulation.
    run, labels = rtl_check_all(artifact, build_dir=build / net.tag / simulator, stall=STALL, dataset=ds,
                                simulator=simulator, limit=n, progress=progress,
                                batch=n if simulator == "icarus" else None)
    import numpy as np
    first = run.comparison.mismatches[0] if run.comparison.mismatches else None
    return {
        "network": net.tag, "description": _describe(artifact), "kind": net.kind, "dataset": net.dataset,
        "simulator": simulator, "rtl_samples": run.samples, "test_split_size": ds.n_test,
        "rtl_mismatches": run.mismatches, "stall": run.stall, "cycles_simulated": run.cycles_simulated,
        "cycles_per_second": run.cycles_per_second, "compile_s": run.compile_s, "compile_cached": run.cached,
        "wall_s": run.wall_s, "batches": run.batches,
        "accuracy_rtl": float(np.mean(np.asarray(run.classes) == np.asarray(labels))),
        "cycles_per_inference_mean": float(np.mean(run.cycles)),
        "first_mismatch": None if first is None else [first[0], first[1], str(first[2]), str(first[3])],
    }


def soak(net, artifact, n, build):
    """The soak row: ``n`` inferences through one simulated accelerator on Verilator."""
    from spinaps.data import data_for
    from spinaps.sim.split_runner import run_soak
    from spinaps.sw.golden import GoldenModel

    ds = data_for(artifact, None)
    run = run_soak(GoldenModel.from_artifact(artifact), ds.x_test, n, build_dir=build / "soak", stall=STALL)
    return {"network": net.tag, "description": _describe(artifact), "dataset": net.dataset,
            "simulator": run.simulator, "soak_inferences": run.samples, "soak_simulations": run.batches,
            "soak_mismatches": run.mismatches, "stall": run.stall, "cycles_simulated": run.cycles_simulated,
            "cycles_per_second": run.cycles_per_second, "compile_s": run.compile_s, "wall_s": run.wall_s}


def markdown(doc):
    """bench/results/verification.md from the JSON document (also for bench/report.py)."""
    lines = ["# Every test sample in RTL", "",
             f"Measured by `{doc['command']}`: each network's test split in RTL against the golden model, every "
             f"spike of every layer, class, step and counter compared, random valid/ready stalls "
             f"(probability {STALL} per cycle) on the sample and result streams. Verilator runs the whole split "
             f"through one compiled model in batches; Icarus a subset, for the simulator comparison."
             + (f" {doc['note']}" if doc.get("note") else ""), "",
             "| network | kind | data set | simulator | samples / split | mismatches | cycles simulated | cycles/s "
             "| compile s | wall s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for e in doc["entries"]:
        cached = " (cached)" if e.get("compile_cached") else ""
        lines.append(f"| {e['network']} ({e['description']}) | {e['kind']} | {e['dataset']} | {e['simulator']} | "
                     f"{e['rtl_samples']:,} / {e['test_split_size']:,} | {e['rtl_mismatches']} | "
                     f"{e['cycles_simulated']:,} | {e['cycles_per_second']:,.0f} | {e['compile_s']:.1f}{cached} | "
                     f"{e['wall_s']:.1f} |")
    s = doc.get("soak")
    if s:
        lines += ["", "## Soak", "",
                  f"{s['soak_inferences']:,} inferences back to back through one simulated accelerator "
                  f"({s['network']}: {s['description']}; {s['soak_simulations']} simulation on {s['simulator']}, "
                  f"stall {s['stall']}): {s['soak_mismatches']} mismatches (lost, duplicated or different results "
                  f"count as mismatches); {s['cycles_simulated']:,} cycles at {s['cycles_per_second']:,.0f} "
                  f"cycles/s, compile {s['compile_s']:.1f} s, wall {s['wall_s']:.1f} s."]
    missing = doc.get("not_run")
    if missing:
        lines += ["", "Not run in this measurement: " + ", ".join(missing) + "."]
    return "\n".join(lines) + "\n"


def _write(doc, path):
    from spinaps.flow import write_json
    from spinaps.toolchain import atomic_write_text
    doc["not_run"] = [n.tag for n in networks(doc["quick"]) if n.tag not in {e["network"] for e in doc["entries"]}]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, doc)
    atomic_write_text(path.with_suffix(".md"), markdown(doc))


def merge(doc, other):
    """``other``'s rows (and soak) replace ``doc``'s of the same network and simulator: the
    results of runs made in parallel (``--json``) brought together."""
    keys = {(e["network"], e["simulator"]) for e in other["entries"]}
    doc["entries"] = [e for e in doc["entries"] if (e["network"], e["simulator"]) not in keys] + other["entries"]
    doc["soak"] = other.get("soak") or doc.get("soak")
    doc["command"] += f"; rows of {other['command']}"
    return doc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits only, small subsets")
    ap.add_argument("--train-only", action="store_true", help="only train the networks whose artifact is missing")
    ap.add_argument("--only", nargs="+", metavar="TAG", help="these networks only (artifact file stems), in this "
                                                              "order; their rows replace those in verification.json")
    ap.add_argument("--no-soak", action="store_true", help="skip the soak")
    ap.add_argument("--build", default="build/bench_verification", help="simulation build folder")
    ap.add_argument("--json", default=str(RESULTS / "verification.json"),
                    help="where the results go (.md beside it); default bench/results/verification.json")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="only merge the rows of these result files (of "
                                                               "runs with --json) into --json")
    ap.add_argument("--note", help="a sentence about the measurement for the .md (e.g. the machine's load)")
    args = ap.parse_args(argv)
    out = Path(args.json)
    if args.merge:
        doc = json.loads(out.read_text())
        for other in args.merge:
            doc = merge(doc, json.loads(Path(other).read_text()))
        if args.note:
            doc["note"] = args.note
        _write(doc, out)
        print(markdown(doc))
        return 0
    import torch
    torch.set_num_threads(1)
    nets = networks(args.quick)
    if args.only:                     # in the order given
        by_tag = {n.tag: n for n in nets}
        unknown = [t for t in args.only if t not in by_tag]
        if unknown:
            ap.error(f"--only {unknown[0]}: not a benchmark network; give one of {', '.join(by_tag)}")
        nets = [by_tag[t] for t in args.only]
    if args.train_only:
        for net in nets:
            ensure(net)
            print(f"{net.tag}: {net.path}", flush=True)
        return 0
    from spinaps.toolchain import simulator
    for sim in ("verilator", "icarus"):
        simulator(sim)                # both installed before anything long starts

    def log(message):
        print(message, flush=True)

    command = "python bench/verification.py" + (" --quick" if args.quick else "")
    doc = {"command": command, "quick": args.quick, "stall": STALL, "entries": [], "soak": None}
    if args.only:
        doc["command"] += " --only " + " ".join(args.only)
        if out.exists():
            doc = merge(json.loads(out.read_text()), doc)
    build = Path(args.build)
    # The soak first: one long simulation of the digits GLM (bench/run.py's digits_k4).
    if not args.no_soak and (not args.only or "digits_k4" in args.only):
        digits = next(n for n in networks(args.quick) if n.tag == "digits_k4")
        doc["soak"] = soak(digits, ensure(digits, log), 1_000 if args.quick else SOAK_INFERENCES, build)
        log(f"soak: {doc['soak']['soak_inferences']} inferences, {doc['soak']['soak_mismatches']} mismatches")
        _write(doc, out)
    for net in nets:
        artifact = ensure(net, log)
        for sim, limit in (("verilator", QUICK_SAMPLES if args.quick else None),
                           ("icarus", min(ICARUS_SAMPLES, QUICK_SAMPLES))):
            entry = check(net, artifact, sim, limit, build, log)
            log(f"{net.tag} {sim}: {entry['rtl_samples']}/{entry['test_split_size']} samples, "
                f"{entry['rtl_mismatches']} mismatches, {entry['cycles_per_second']:,.0f} cycles/s, "
                f"compile {entry['compile_s']:.1f} s, wall {entry['wall_s']:.1f} s")
            doc["entries"] = [e for e in doc["entries"] if (e["network"], e["simulator"]) != (net.tag, sim)]
            doc["entries"].append(entry)
            _write(doc, out)                # after every row: a stopped run keeps what it measured
    print(markdown(doc))
    bad = sum(e["rtl_mismatches"] for e in doc["entries"]) + (doc["soak"] or {}).get("soak_mismatches", 0)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
