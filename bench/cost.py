"""Cost model benchmark: energy, latency, area, GSOPS/W/mm2 of STT-RAM vs SRAM synapses per network.

    python bench/cost.py                 # the networks of bench/run.py, softlif.py and networks.py
    python bench/cost.py --quick         # digits first-to-spike artifacts only, 10 RTL samples
    python bench/cost.py --devices F     # merge a device table over sim/devices.json

For each network: RTL runs on Icarus (SRAM, and STT-RAM at the table's read latency) of the
first test samples, counters checked equal to the golden model's, then the cost model
(spinaps.sim.cost with the flow's RTL runs, spinaps.flow.cost_measure; docs/cost_model.md). When no digits artifact exists yet, a digits GLM and a
digits hybrid are trained first. Writes bench/results/cost.json (one row per network and
memory), bench/results/cost.md and bench/results/energy_sttram_vs_sram.png.
"""

import argparse
import hashlib
import sys
import time
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parent


#: build/ folders of the stages before this one (bench/run.py and softlif.py, networks.py).
STAGE_FOLDERS = ("bench", "bench_networks")


def find_artifacts(quick, build_root):
    """Artifacts of the network bench scripts that run before this one in the suite
    (build/bench/ of bench/run.py and bench/softlif.py, build/bench_networks/ of
    bench/networks.py), loadable ones only.

    Not the other build/bench_*/ folders: bench_synth and bench_boards re-export the same
    networks with other lane counts (and the suite builds them concurrently with this stage),
    and the later stages' (window, hwaware, search...) exist only after an earlier full run,
    so costing them would make this table depend on what was left behind."""
    from spinaps.sw import artifact as art

    found, seen = [], set()
    paths = [p for folder in STAGE_FOLDERS for p in sorted((Path(build_root) / folder).glob("**/*.npz"))]
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:                    # the same model saved twice is costed once
            continue
        seen.add(digest)
        try:
            a = art.load(path)
        except art.ArtifactError as exc:      # e.g. a half-written file of an interrupted run
            print(f"skipping {path}: {exc}", file=sys.stderr)
            continue
        # Quick: digits first-to-spike networks only (early exit keeps their RTL runs short).
        if quick and (a.manifest["dataset"]["name"] != "digits" or a.manifest["decision"] != "first_to_spike"):
            continue
        found.append(a)
    return found


def train_digits(build):
    """A digits GLM and a digits 64 -> 32 LIF -> 10 GLM hybrid, when no artifact exists."""
    from spinaps.sw import artifact as art
    from spinaps.flow import train_and_export, train_network_and_export
    from spinaps.sw.lif import LifNetConfig

    build.mkdir(parents=True, exist_ok=True)
    glm, hybrid = build / "digits_glm.npz", build / "digits_hybrid_32.npz"
    train_and_export("digits", glm, progress=False, checkpoint=False)
    train_network_and_export("digits", hybrid, config=LifNetConfig(hidden=(32,)), progress=False, checkpoint=False)
    return [art.load(glm), art.load(hybrid)]


# Synapse cells above which the RTL is not simulated in this suite: generating the Verilog
# of a 784 x 128 layer alone took 6 minutes per memory on the loaded 2-core machine.
RTL_CELL_LIMIT = 100_000


def cells(artifact):
    from spinaps.sim.cost import Config
    return Config.from_manifest(artifact.manifest).memory_bits


def describe(artifact):
    m = artifact.manifest
    shape = "-".join([str(m["encoder"]["n_inputs"])] + [f"{l['n_out']}{l['type'].upper()}" for l in m["layers"]])
    bits = "/".join(str(l["weight_bits"]) for l in m["layers"])
    return f"{m['dataset']['name']} {shape} {m['decision']} k={bits} ({Path(artifact.path).stem})"


def samples_for(artifact, quick):
    """RTL samples per memory. MNIST-size networks that run all T_max steps (no early exit)
    simulate at about 1e5 cycles per inference: 3 samples keep the full suite near 30 minutes
    (12 samples of the 784-input soft-LIF network ran over 9 minutes per memory under load)."""
    m = artifact.manifest
    if quick:
        return 10
    if m["encoder"]["n_inputs"] <= 64:
        return 50
    return 12 if m["decision"] == "first_to_spike" else 3


def activity_from_networks_json(artifact):
    """For networks too large to simulate here: the activity bench/networks.py measured.

    Events and synaptic operations are the golden model's means over the whole test split
    (networks.py checked RTL == golden on its subset); cycles are the RTL's mean on that
    subset (SRAM; valid/ready stalls only touch the host streams, outside the counted
    cycles). STT-RAM cycles: SRAM's plus one per layer per extra read-latency cycle, the
    rule of the sensitivity analysis. Returns ``None`` when networks.json has no entry.
    """
    import json

    from spinaps.sim import cost
    from spinaps.sw.lif import LifNetConfig

    path = RESULTS / "networks.json"
    if not path.exists():
        return None
    stem = Path(artifact.path).stem
    for e in json.loads(path.read_text()):
        cfg = LifNetConfig(**e["config"])
        if f"{e['dataset']}_{cfg.output}_{cfg.decision}_{'x'.join(map(str, cfg.hidden))}" == stem:
            steps = e["mean_decision_step"]
            act = cost.Activity(events=tuple(e["events_per_inference_per_layer"]),
                                sops=tuple(e["sops_per_inference_per_layer"]), steps=steps,
                                cycles=e["cycles_per_inference_mean"], samples=e["rtl_checked_samples"])
            return act
    return None


def run_network(artifact, devices, build, quick):
    from dataclasses import replace

    from spinaps.flow import cost_measure
    from spinaps.sim import cost
    from spinaps.sim.activity import lane_utilization_bound
    from spinaps.sim.devices import MEMORIES, read_latency_cycles

    n = samples_for(artifact, quick)
    cells_total = cells(artifact)
    source = "RTL runs of both memories (this script)"
    if cells_total > RTL_CELL_LIMIT:
        act = activity_from_networks_json(artifact)
        if act is None:
            print(f"skipping {artifact.path}: {cells_total:,} synapse cells (> {RTL_CELL_LIMIT:,}) and no "
                  "RTL cycles in networks.json", file=sys.stderr)
            return []
        config = cost.Config.from_artifact(artifact)
        lat = {m: read_latency_cycles(devices, m) for m in MEMORIES}
        acts = {"sram": act, "sttram": replace(act, cycles=act.cycles + (lat["sttram"] - 1) * len(config.layers))}
        source = ("golden counters over the test split + RTL cycles (SRAM) from bench/results/networks.json; "
                  "STT-RAM cycles = SRAM + 1 per layer per extra read-latency cycle (not simulated)")
    else:
        config, acts, lat = cost_measure(artifact, n, build_dir=build / Path(artifact.path).stem, devices=devices)
    out = cost.compare(config, acts, devices, lat)
    he = cost.hunsberger_eliasmith(config, acts["sram"])
    util = lane_utilization_bound(config, acts["sram"], read_latency=lat["sram"])
    name = describe(artifact)
    rows = []
    for row in out["rows"]:
        memory = row["memory"]
        rows.append({
            "network": name, "artifact": str(artifact.path), "dataset": artifact.manifest["dataset"]["name"],
            **row,
            "activity_source": source,
            "rtl_samples": acts[memory].samples, "read_latency_cycles": lat[memory],
            "decision_step_mean": acts[memory].steps,
            "events_per_inference_per_layer": list(acts[memory].events),
            "sops_per_inference_per_layer": list(acts[memory].sops),
            "memory_bits": config.memory_bits,
            "weight_load_energy_j": out["weight_load_energy_j"][memory],
            "ratio_gsops_per_w_mm2_sttram_over_sram": out["ratio_gsops_per_w_mm2"],
            "ratio_energy_sttram_over_sram": out["ratio_energy"],
            "ratio_area_sttram_over_sram": out["ratio_area"],
            "most_sensitive_parameter": out["most_sensitive_parameter"],
            "sensitivity": out["sensitivity"],
            "hunsberger_eliasmith": he,
            "lane_utilization": acts[memory].total_sops / (sum(l.lanes for l in config.layers) * acts[memory].cycles),
            "lane_utilization_bound": util["bound"],
            "lane_utilization_bound_per_layer": util["bound_per_layer"],
        })
    return rows


def _fmt(x, unit=""):
    for scale, prefix in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1, "")):
        if abs(x) < scale * 1000:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def markdown(rows, command, devices_note):
    lines = ["# Cost model: STT-RAM vs SRAM synapses", "",
             f"Measured by `{command}`: activity from RTL counters on Icarus (checked equal to the golden "
             f"model's), energies and areas from the device table ({devices_note}); formulas and every "
             "number's source: docs/cost_model.md.", "",
             "| network | memory | RTL samples | energy/inference | latency | area (mm2) | GSOPS | GSOPS/W | GSOPS/W/mm2 | EDP (J s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mark = "" if r["activity_source"].startswith("RTL runs") else " *"
        lines.append(f"| {r['network']}{mark} | {r['memory']} | {r['rtl_samples']} | {_fmt(r['energy_per_inference_j'], 'J')} | "
                     f"{_fmt(r['latency_s'], 's')} | {r['area_mm2']:.4f} | {r['gsops']:.3g} | {r['gsops_per_w']:.4g} | "
                     f"{r['gsops_per_w_mm2']:.4g} | {r['edp']:.3g} |")
    if any(not r["activity_source"].startswith("RTL runs") for r in rows):
        lines += ["", f"\\* More than {RTL_CELL_LIMIT:,} synapse cells: not simulated by this script (Verilog generation "
                  "alone takes minutes per memory here). Activity = golden counters over the test split and the RTL's "
                  "measured SRAM cycles from bench/results/networks.json; STT-RAM cycles = SRAM cycles + 1 per layer "
                  "(the read pipeline's extra stage, paid once per layer in the decision step's tail)."]
    lines += ["", "## STT-RAM / SRAM ratio and its sensitivity", "",
              "Each device parameter scaled x0.5 and x2 (everything else as in the table); swing = largest |log2(ratio / base)|.", "",
              "| network | GSOPS/W/mm2 ratio | energy ratio | area ratio | most sensitive parameter (ratio at x0.5, x2) | next two |",
              "|---|---|---|---|---|---|"]
    for r in rows[::2]:
        s = r["sensitivity"]
        top = f"`{s[0]['parameter']}` ({s[0]['ratio']['0.5']:.2f}, {s[0]['ratio']['2.0']:.2f})"
        nxt = ", ".join(f"`{x['parameter']}` ({x['ratio']['0.5']:.2f}, {x['ratio']['2.0']:.2f})" for x in s[1:3])
        lines.append(f"| {r['network']} | {r['ratio_gsops_per_w_mm2_sttram_over_sram']:.2f} | "
                     f"{r['ratio_energy_sttram_over_sram']:.2f} | {r['ratio_area_sttram_over_sram']:.2f} | {top} | {nxt} |")
    lines += ["", "## Where the energy goes (SRAM row, share of energy per inference)", "",
              "| network | synapse read | accumulate | neuron update | encoder | clock | leakage | synapse memory share of area (SRAM, STT-RAM) |",
              "|---|---|---|---|---|---|---|---|"]
    for sram, stt in zip(rows[::2], rows[1::2]):
        b, tot = sram["energy_breakdown_j"], sram["energy_per_inference_j"]
        share = [sram["area_breakdown_mm2"]["synapse_memory"] / sram["area_mm2"],
                 stt["area_breakdown_mm2"]["synapse_memory"] / stt["area_mm2"]]
        lines.append(f"| {sram['network']} | " + " | ".join(f"{b[k] / tot:.0%}" for k in (
            "synapse_read", "accumulate", "neuron_update", "encoder", "clock", "leakage")) +
            f" | {share[0]:.0%}, {share[1]:.0%} |")
    lines += ["", "## Hunsberger & Eliasmith's estimate, next to ours", "",
              "E_SNN = 0.08 x synaptic events + 0.25 x neuron updates (FLOP equivalents) against the same-shape "
              "ANN's FLOPs (one multiply-accumulate = 2 FLOPs per synapse, one per activation).", "",
              "| network | synaptic events | neuron updates | E_SNN (FLOP eq.) | ANN FLOPs | ANN / SNN | our model: SRAM energy/inference |",
              "|---|---|---|---|---|---|---|"]
    for r in rows[::2]:
        he = r["hunsberger_eliasmith"]
        lines.append(f"| {r['network']} | {he['synaptic_events']:,.0f} | {he['neuron_updates']:,.0f} | "
                     f"{he['snn_flop_equivalents']:,.0f} | {he['ann_flops']:,.0f} | {he['ann_over_snn']:.1f} | "
                     f"{_fmt(r['energy_per_inference_j'], 'J')} |")
    lines += ["", "![energy per inference, STT-RAM vs SRAM](energy_sttram_vs_sram.png)", ""]
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [r["network"].split(" (")[0] for r in rows[::2]]
    sram = np.array([r["energy_per_inference_j"] for r in rows[::2]]) * 1e9
    stt = np.array([r["energy_per_inference_j"] for r in rows[1::2]]) * 1e9
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names) + 2), 4.5))
    ax.bar(x - 0.2, sram, 0.4, label="SRAM synapses")
    ax.bar(x + 0.2, stt, 0.4, label="STT-RAM synapses")
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("energy per inference (nJ, model)")
    ax.set_title("Energy per inference from measured RTL activity (cost model, 45 nm table)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits first-to-spike artifacts only, 10 RTL samples each")
    ap.add_argument("--devices", help="JSON device table merged over sim/devices.json by key")
    ap.add_argument("--build", default="build", help="where the bench artifacts are (BUILD/bench/, BUILD/bench_networks/)")
    args = ap.parse_args(argv)
    from spinaps.flow import write_json
    from spinaps.sim.devices import DeviceTableError, load_devices
    from spinaps.toolchain import atomic_write_text

    try:
        devices = load_devices(args.devices)
    except DeviceTableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build = Path(args.build)
    artifacts = find_artifacts(args.quick, build)
    if not any(a.manifest["dataset"]["name"] == "digits" for a in artifacts):
        artifacts += train_digits(build / "bench_cost")
    t0 = time.perf_counter()
    rows = []
    for artifact in tqdm(artifacts, desc="cost", unit="network"):
        rows += run_network(artifact, devices, build / "cost_rtl", args.quick)
    command = "python bench/cost.py" + (" --quick" if args.quick else "") + (f" --devices {args.devices}" if args.devices else "")
    for r in rows:
        r["command"] = command
        r["clock_mhz"] = devices["clock_mhz"]["value"]
        r["technology_node_nm"] = devices["technology_node_nm"]["value"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "cost.json", rows)
    note = f"sim/devices.json{' + ' + args.devices if args.devices else ''}, {devices['technology_node_nm']['value']} nm, " \
           f"{devices['clock_mhz']['value']} MHz"
    atomic_write_text(RESULTS / "cost.md", markdown(rows, command, note))
    plot(rows, RESULTS / "energy_sttram_vs_sram.png")
    print(f"cost: {len(rows) // 2} networks in {time.perf_counter() - t0:.0f} s")
    print((RESULTS / "cost.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
