"""Window-mode benchmark (SpikeX, issue 15): EDP, latency and reads of window schedules against
the time-sequential engine, per network.

    python bench/window.py            # the issue's networks (artifacts of the earlier stages, else trained)
    python bench/window.py --quick    # digits only, fewer samples
    python bench/window.py --synth-only [--synth-also 8,8]   # only the resources and ECP5 Fmax again

For each network: the golden model's activity on the first test samples
(:func:`spinaps.sim.schedule.trace_of`), every schedule costed from it
(:func:`spinaps.sim.schedule.schedule_cost`: reads exactly as docs/semantics.md section 7
counts them, the cycle model, the cost model of spinaps.sim.cost), the cycle model calibrated
on the same samples' RTL cycles at W = 1 (RTL run, every spike compared with the golden
model); schedules compared: time-sequential (W = 1), each single W for the whole network with
A = 1 and A = W, the best single W and the best per-layer W (lowest EDP). The RTL (window
engine, every spike, class, step and counter compared with the golden model, reads with its
prediction) runs W = 1 and the two best schedules: those rows (``cycles_source == "rtl"``)
carry its samples, mismatches and measured cycles; the others are the calibrated model.
Resources and Fmax (:func:`add_synthesis`) of each network's W = 1, best single-W and best
per-layer schedules: Yosys on the accelerator alone (xc7a35t) and the ULX3S board top through
Yosys + nextpnr-ecp5 (the ECP5 Fmax, against the issue's 15 % target). ``--synth-only``
recomputes just those columns of an existing window.json (after an RTL change). Writes
bench/results/window.json, window.md and window.png.
"""

import argparse
import inspect
import itertools
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))                 # the other stages' case lists (networks.py)

from window_synth import add_synthesis, resources_markdown  # noqa: E402  (bench/ on the path above)

# (artifact stem, what it is, golden samples, RTL samples: the first of them); looked up under
# build/bench*/, trained when absent. RTL samples are few: on the shared 2-core machine Icarus
# ran the 64-step soft-LIF network at about 130 simulated cycles per second.
NETWORKS = [
    ("softlif_digits", "soft-LIF digits 64 steps, max potential", 200, 6),
    ("digits_lif_spike_count_64", "all-LIF digits, spike count", 200, 8),
    ("motions_lif_spike_count_32", "all-LIF motions, spike count", 200, 6),
    ("motions_glm_first_to_spike_64", "hybrid motions, first-to-spike", 200, 6),
    ("digits_k4", "GLM digits, first-to-spike", 200, 16),
    ("digits_glm_first_to_spike_64", "hybrid digits, first-to-spike", 200, 16),
]
QUICK = ["digits_lif_spike_count_64", "digits_glm_first_to_spike_64"]


def find_or_train(stem, build_root):
    """The artifact ``stem`` from an earlier stage (build/bench*/**), else trained here
    (build/bench_window/) as that stage trains it."""
    from spinaps.sw import artifact as art

    out = Path(build_root) / "bench_window" / f"{stem}.npz"
    for path in sorted(Path(build_root).glob(f"bench*/**/{stem}.npz")) + [out]:
        try:
            return art.load(path)
        except art.ArtifactError as exc:     # absent, half-written, or of an older contract
            if path.exists():
                print(f"not using {path}: {exc}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    if stem == "softlif_digits":
        from softlif import DEFAULTS
        from spinaps.sw.datasets import load_dataset
        from spinaps.sw.softlif import SoftLifConfig, train_softlif
        from spinaps.sw.softlif_convert import convert, evaluate_golden, softlif_artifact

        ds = load_dataset("digits")
        trained = train_softlif(ds, SoftLifConfig(), progress=False)
        model, info = convert(trained, ds, return_info=True, **DEFAULTS)
        manifest, arrays = softlif_artifact(model, trained, ds, golden_accuracy=evaluate_golden(model, ds)["accuracy"],
                                            info=info)
        return art.load(art.save(out, manifest, arrays))
    if stem.startswith("digits_k"):
        from spinaps.flow import train_and_export
        from spinaps.sw.train import GlmTrainConfig

        train_and_export("digits", out, config=GlmTrainConfig(weight_bits=int(stem[len("digits_k"):])),
                         progress=False, checkpoint=False)
        return art.load(out)
    from networks import CASES
    from spinaps.flow import train_network_and_export
    from spinaps.sw.lif import LifNetConfig

    for dataset, options, _ in CASES:
        cfg = LifNetConfig(**options)
        if f"{dataset}_{cfg.output}_{cfg.decision}_{'x'.join(map(str, cfg.hidden))}" == stem:
            train_network_and_export(dataset, out, config=cfg, progress=False, checkpoint=False)
            return art.load(out)
    raise ValueError(f"no recipe for the bench network {stem!r}")


def rtl_run(artifact, n, build_dir, schedule=None):
    """RTL run of the first ``n`` test samples (every spike compared with the golden model),
    with ``schedule`` when the accelerator takes one; ``None`` when it does not yet."""
    from spinaps.flow import rtl_check

    options = {}
    if schedule is not None and any(w > 1 for w, _ in schedule):
        if "window" not in inspect.signature(rtl_check).parameters:
            return None
        options = {"window": [w for w, _ in schedule], "adders": [a for _, a in schedule]}
    import json

    # A finished run of the same samples is kept next to its simulation (runs take minutes).
    done = Path(build_dir) / "window_rtl.json"
    if done.exists():
        kept = json.loads(done.read_text())
        if (kept.get("rtl_samples") == n and kept.get("artifact_sha256") == _sha256(artifact.path)
                and kept.get("hdl_sha256") == _hdl_sha256()):
            return kept
    t0 = time.perf_counter()
    run, cmp, _ = rtl_check(artifact, n, build_dir=build_dir, **options)
    out = {"rtl_samples": len(run.results), "rtl_mismatches": len(cmp.mismatches),
           "cycles": float(sum(r["cycles"] for r in run.results) / len(run.results)),
           "seconds": time.perf_counter() - t0, "artifact_sha256": _sha256(artifact.path),
           "hdl_sha256": _hdl_sha256()}
    if all("reads" in r for r in run.results):
        out["reads_per_layer"] = [float(sum(r["reads"][l] for r in run.results) / len(run.results))
                                  for l in range(len(run.results[0]["reads"]))]
    done.write_text(json.dumps(out))
    return out


def _sha256(path):
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _hdl_sha256():
    """Of the gateware's sources: a kept RTL run is stale once the RTL changes."""
    import hashlib

    import spinaps.hdl

    h = hashlib.sha256()
    for path in sorted(Path(spinaps.hdl.__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def schedules(n_layers):
    """Every per-layer schedule with A in {1, W}, and the global ones (same (W, A) every layer)."""
    from spinaps.contract import WINDOWS

    per_layer = [(w, a) for w in WINDOWS for a in sorted({1, w})]
    return [tuple(s) for s in itertools.product(per_layer, repeat=n_layers)], \
        [tuple([x] * n_layers) for x in per_layer]


def bench_network(stem, what, n, n_rtl, build, devices, rtl_windows):
    from spinaps.contract import sample_seeds
    from spinaps.flow import data_for
    from spinaps.sim.cost import Config
    from spinaps.sim.schedule import schedule_cost, trace_of
    from spinaps.sw.golden import GoldenModel

    artifact = find_or_train(stem, build)
    m = artifact.manifest
    model = GoldenModel.from_artifact(artifact)
    ds = data_for(artifact)
    n = min(n, len(ds.y_test))
    n_rtl = min(n_rtl, n)
    trace = trace_of(model, ds.x_test[:n], sample_seeds(n))
    rtl_trace = trace.first(n_rtl)
    config = Config.from_artifact(artifact)
    n_layers = len(model.layers)
    every, global_ = schedules(n_layers)
    sequential = global_[0]
    rtl = {sequential: rtl_run(artifact, n_rtl, build / "window_rtl" / stem / "w1")}

    def rtl_scale(s):
        """The RTL's mean cycles over the model's, on the samples the RTL ran."""
        return rtl[s]["cycles"] / schedule_cost(rtl_trace, s, "sram", devices=devices)["cycles_model"]

    scale = rtl_scale(sequential)
    costs = {s: schedule_cost(trace, s, "sram", devices=devices, config=config, cycles_scale=scale) for s in every}
    best_single = min(global_, key=lambda s: costs[s]["edp"])
    best_layer = min(every, key=lambda s: costs[s]["edp"])
    if rtl_windows:
        # The RTL runs the schedules the comparison rests on (each takes minutes here); the
        # other rows are the calibrated model, marked so.
        for s in dict.fromkeys(x for x in (best_single, best_layer) if x != sequential):
            tag = "_".join(f"w{w}a{a}" for w, a in s)
            got = rtl_run(artifact, n_rtl, build / "window_rtl" / stem / tag, s)
            if got is None:
                break
            rtl[s] = got
    base = costs[sequential]
    rows = []
    for s, label in [(x, "single W") for x in global_] + [(best_layer, "best per-layer W")]:
        c = dict(costs[s])
        measured = rtl.get(s)
        if measured is not None and s != sequential:       # calibrated by the RTL's own cycles
            c = schedule_cost(trace, s, "sram", devices=devices, config=config, cycles_scale=rtl_scale(s))
        kind = "time-sequential" if s == sequential and label == "single W" else label
        if s == best_single and s != sequential and label == "single W":
            kind = "best single W"
        rows.append({
            "network": f"{what} ({stem})", "artifact": str(artifact.path), "dataset": m["dataset"]["name"],
            "decision": m["decision"], "schedule_kind": kind, "schedule": [list(x) for x in s],
            "window": s[0][0] if len(set(s)) == 1 else [w for w, _ in s],
            "adders": s[0][1] if len(set(s)) == 1 else [a for _, a in s],
            "samples": trace.samples, "decision_step_mean": c["decision_step_mean"],
            "cycles_mean": c["cycles"], "cycles_model_calibrated": c["cycles_model"] * scale,
            "cycles_source": "rtl" if measured else "model (calibrated on the RTL's W = 1 cycles)",
            "calibration_scale": scale, "rtl_cycles_mean": measured["cycles"] if measured else None,
            "model_cycles_on_rtl_samples": measured["cycles"] / rtl_scale(s) if measured else None,
            "reads_on_rtl_samples_per_layer": (schedule_cost(rtl_trace, s, "sram", devices=devices)["reads_per_layer"]
                                               if measured else None),
            "reads_per_inference": c["reads"], "reads_per_layer": c["reads_per_layer"],
            "sops_per_inference": c["sops"], "reads_per_sop": c["reads_per_sop"],
            "reuse_factor": base["reads"] / c["reads"] if c["reads"] else None,
            "active_pairs_per_layer": c["active_pairs_per_layer"],
            "discarded_sop_fraction": c["discarded_sop_fraction"],
            "discarded_reads_per_inference": c["discarded_reads"],
            "lane_utilization": c["lane_utilization"],
            "energy_per_inference_j": c["energy_per_inference_j"], "latency_s": c["latency_s"],
            "area_mm2": c["area_mm2"], "edp": c["edp"],
            "edp_ratio_vs_sequential": base["edp"] / c["edp"],
            "energy_ratio_vs_sequential": base["energy_per_inference_j"] / c["energy_per_inference_j"],
            "latency_ratio_vs_sequential": base["latency_s"] / c["latency_s"],
            "energy_breakdown_j": c["energy_breakdown_j"],
            "rtl_samples": measured["rtl_samples"] if measured else 0,
            "rtl_mismatches": measured["rtl_mismatches"] if measured else None,
            "rtl_reads_per_layer": measured.get("reads_per_layer") if measured else None,
            "lut": None, "ff": None, "bram36": None, "fmax_mhz": None,
        })
    return rows


def _fmt(x, unit=""):
    for scale, prefix in ((1e-18, "a"), (1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1, "")):
        if abs(x) < scale * 1000:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def markdown(rows, command):
    lines = ["# Window mode (SpikeX): EDP and latency against the window length", "",
             f"Measured by `{command}`. Means over the first {rows[0]['samples']} test samples of each network. Reads "
             "are the golden model's exact prediction (docs/semantics.md section 7; the RTL's counter equals it on the "
             "samples it ran). Cycles: the window engine's cycle model (spinaps.sim.schedule) times the RTL's measured "
             "cycles over the model's on the first test samples the RTL ran, with this schedule's own RTL run where "
             "`cycles` says `rtl`, else the W = 1 run's; energy, latency and "
             "EDP from the cost model (SRAM synapses, sim/devices.json; docs/cost_model.md). EDP ratio = EDP of "
             "W = 1 / EDP of the row (higher is better).", "",
             "| network | schedule | (W, A) per layer | cycles | decision step | reads/inference | reads/SOP | "
             "discarded SOPs | lane util. | energy | latency | EDP | EDP ratio | RTL samples (mismatches) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sched = " ".join(f"({w},{a})" for w, a in r["schedule"])
        rtl = f"{r['rtl_samples']} ({r['rtl_mismatches']})" if r["rtl_samples"] else "model only"
        if r.get("rtl_reads_per_layer"):
            same = all(abs(a - b) < 1e-9 for a, b in zip(r["rtl_reads_per_layer"], r["reads_on_rtl_samples_per_layer"]))
            rtl += ", reads = prediction" if same else ", READS DIFFER"
        src = "RTL-calibrated" if r["cycles_source"] == "rtl" else "model"
        lines.append(f"| {r['network']} | {r['schedule_kind']} | {sched} | {r['cycles_mean']:,.0f} ({src}) | "
                     f"{r['decision_step_mean']:.2f} | {r['reads_per_inference']:,.0f} | {r['reads_per_sop']:.4f} | "
                     f"{r['discarded_sop_fraction']:.1%} | {r['lane_utilization']:.3f} | "
                     f"{_fmt(r['energy_per_inference_j'], 'J')} | {_fmt(r['latency_s'], 's')} | {r['edp']:.3g} | "
                     f"{r['edp_ratio_vs_sequential']:.2f}x | {rtl} |")
    lines += ["", "## Best schedule per network", "",
              "| network | decision | best single W: (W, A), EDP ratio | best per-layer: (W, A) per layer, EDP ratio | "
              "energy ratio | latency ratio |", "|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["network"] for r in rows):
        mine = [r for r in rows if r["network"] == name]
        single = max((r for r in mine if r["schedule_kind"] in ("best single W", "time-sequential")),
                     key=lambda r: r["edp_ratio_vs_sequential"])
        layer = [r for r in mine if r["schedule_kind"] == "best per-layer W"][0]
        lines.append(f"| {name} | {mine[0]['decision']} | {tuple(single['schedule'][0])}, "
                     f"{single['edp_ratio_vs_sequential']:.2f}x | "
                     f"{' '.join(f'({w},{a})' for w, a in layer['schedule'])}, {layer['edp_ratio_vs_sequential']:.2f}x | "
                     f"{layer['energy_ratio_vs_sequential']:.2f}x | {layer['latency_ratio_vs_sequential']:.2f}x |")
    measured = [r for r in rows if r.get("rtl_cycles_mean")]
    lines += ["", "## Cycle model against the RTL", "",
              "Mean cycles on the samples the RTL ran: the RTL's, the cycle model's before calibration, their ratio "
              "(the calibration factor of the row).", "",
              "| network | (W, A) per layer | RTL samples | RTL cycles | model cycles | RTL / model |", "|---|---|---|---|---|---|"]
    seen = set()
    for r in measured:
        key = (r["network"], str(r["schedule"]))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"| {r['network']} | {' '.join(f'({w},{a})' for w, a in r['schedule'])} | {r['rtl_samples']} | "
                     f"{r['rtl_cycles_mean']:,.1f} | {r['model_cycles_on_rtl_samples']:,.1f} | "
                     f"{r['rtl_cycles_mean'] / r['model_cycles_on_rtl_samples']:.3f} |")
    lines += resources_markdown(rows)
    lines += ["", "![EDP and latency against W](window.png)", ""]
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for name in dict.fromkeys(r["network"] for r in rows):
        for full, style in ((True, "-"), (False, ":")):
            pts = sorted((r["schedule"][0][0], r) for r in rows if r["network"] == name
                         and r["schedule_kind"] != "best per-layer W"
                         and (r["schedule"][0][1] == r["schedule"][0][0]) == full)
            pts = [(1, next(r for r in rows if r["network"] == name and r["schedule_kind"] == "time-sequential"))] \
                + [p for p in pts if p[0] > 1]
            ws = [w for w, _ in pts]
            label = name.split(" (")[0] + (" A=W" if full else " A=1")
            base = pts[0][1]
            line = axes[0].plot(ws, [r["edp"] / base["edp"] for _, r in pts], style, marker="o", label=label)[0]
            axes[1].plot(ws, [r["latency_s"] / base["latency_s"] for _, r in pts], style, marker="o",
                         color=line.get_color())
    for ax, what in zip(axes, ("EDP / EDP at W = 1 (cost model)", "latency / latency at W = 1")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("window length W (every layer)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
    fig.suptitle("Window mode: EDP and latency against W (solid A = W, dotted A = 1)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits networks only, fewer samples")
    ap.add_argument("--build", default="build", help="where the bench artifacts are (build/bench*/)")
    ap.add_argument("--no-rtl-windows", action="store_true", help="RTL runs of W = 1 only")
    ap.add_argument("--synth-only", action="store_true",
                    help="recompute only the synthesis columns (Yosys resources, ECP5 Fmax) of the rows of "
                         "bench/results/window.json: no golden or RTL runs (after an RTL change)")
    ap.add_argument("--no-synth", action="store_true", help="skip the Yosys resource counts and ECP5 builds")
    ap.add_argument("--synth-cached", action="store_true",
                    help="with --synth-only: fill in only the designs built before (the synthesis cache), build none")
    ap.add_argument("--no-pnr", action="store_true", help="Yosys resources only: no ECP5 board builds, no Fmax")
    ap.add_argument("--synth-also", action="append", default=[], metavar="W,A",
                    help="also synthesize each network's single-W row with (W, A) in every layer (repeatable)")
    ap.add_argument("--ecp5-mhz", type=float, default=None,
                    help="ECP5 core clock and nextpnr timing target in MHz (default: the ULX3S default, 50)")
    ap.add_argument("--synth-networks", default=None, metavar="STEM,STEM",
                    help="synthesize only these networks (artifact stems, e.g. softlif_digits); default: every one")
    args = ap.parse_args(argv)
    if args.synth_cached and not args.synth_only:
        ap.error("--synth-cached goes with --synth-only (a full run builds what it needs)")
    also = []
    for text in args.synth_also:
        try:
            w, a = (int(v) for v in text.split(","))
        except ValueError:
            ap.error(f"--synth-also {text!r}: give W,A (e.g. 8,8)")
        also.append((w, a))
    networks = None if args.synth_networks is None else {x.strip() for x in args.synth_networks.split(",") if x.strip()}
    import json

    import torch

    from spinaps.flow import write_json
    from spinaps.sim.devices import load_devices
    from spinaps.toolchain import atomic_write_text

    torch.set_num_threads(1)
    devices = load_devices()
    build = Path(args.build)
    t0 = time.perf_counter()

    def write(rows, command):
        RESULTS.mkdir(parents=True, exist_ok=True)
        write_json(RESULTS / "window.json", rows)
        atomic_write_text(RESULTS / "window.md", markdown(rows, command))
        plot(rows, RESULTS / "window.png")

    if args.synth_only:
        path = RESULTS / "window.json"
        if not path.exists():
            ap.error(f"--synth-only: {path} does not exist; run `python bench/window.py` first")
        rows = json.loads(path.read_text())
        add_synthesis(rows, build, lambda rows: write(rows, rows[0]["command"]), also=also, pnr=not args.no_pnr,
                      force=True, networks=networks, ecp5_mhz=args.ecp5_mhz, cached_only=args.synth_cached)
        return 0
    rows = []
    for stem, what, n, n_rtl in NETWORKS:
        if args.quick and stem not in QUICK:
            continue
        print(f"window: {stem}", flush=True)
        rows += bench_network(stem, what, 50 if args.quick else n, min(n_rtl, 4) if args.quick else n_rtl, build,
                              devices, not args.no_rtl_windows)
    command = "python bench/window.py" + (" --quick" if args.quick else "") + \
        (" --no-rtl-windows" if args.no_rtl_windows else "")
    for r in rows:
        r["command"] = command
    write(rows, command)                      # the runs' results first: synthesis takes a while
    if not args.no_synth:
        add_synthesis(rows, build, lambda rows: write(rows, command), also=also, pnr=not args.no_pnr,
                      networks=networks, ecp5_mhz=args.ecp5_mhz)
    print(f"window: {len(rows)} rows in {time.perf_counter() - t0:.0f} s")
    print((RESULTS / "window.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
