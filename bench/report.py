"""Regenerate bench/RESULTS.md from every JSON file in bench/results/ (no numbers typed in here,
except the published systems' rows, which are marked "published" with their source).

    python bench/report.py

Reads glm.json, networks.json, softlif.json, cost.json, window.json, toolspeed.json, suite.json,
verification.json, faults.json, hwaware.json, search.json and, when
present, synth.json (written by the synthesis flow: model, target, lut, ff, bram36, dsp,
fmax_mhz, fits, us_per_inference). A missing file leaves its section saying so.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# ANCHORS.md (shared design notes): published figures, never mixed with ours without saying so.
PUBLISHED = [
    ("Spiker+ (Carpegna et al., arXiv 2401.01141)", "Artix-7 class", "MNIST MLP, LIF", "93.85%", "7,612 logic cells, 18 BRAM", "780 us", "180 mW (about 140 uJ)"),
    ("Fan & Levy snn-fpga (arXiv 2507.07284)", "Artix-7 @ 100 MHz", "MNIST, IF, int8", "n/a", "6,358 LUT, 40.5 BRAM", "520 us", "0.198 mJ"),
    ("Flexi-NeurA (arXiv 2602.18140)", "FPGA", "256-128-10 LIF", "97.23%", "1,623 logic cells, 7 BRAM", "1.1 ms", "111 mW"),
    ("SRC-neuron SNN (arXiv 2605.10679)", "XC7A200T @ 100 MHz", "MNIST", "96.31%", "-", "1.74 ms", "0.55 mJ at 93.32%"),
    ("FINN (FPGA'17; binary NN, not SNN)", "ZC706", "MNIST", "95.8%", "-", "0.31 us", "< 25 W"),
    ("ODIN (28 nm ASIC)", "ASIC", "MNIST", "84.5%", "256 neurons, 64k 4-bit synapses, 0.086 mm2", "-", "12.7 pJ/SOP, 15 nJ/inference"),
    ("SpinAPS (Babu, Simeone, Rajendran, arXiv 2008.02189)", "STT-RAM emulation", "MNIST GLM first-to-spike", "75% of final in 4 steps", "-", "-", "4x GSOPS/W/mm2 over SRAM"),
    ("Kulkarni, Yin, Seo, Rajendran (STT-RAM SNN cores)", "STT-RAM emulation", "convolutional SNN", "-", "-", "-", "about 15x GSOPS/W/mm2 over SRAM"),
    ("Hunsberger & Eliasmith (arXiv 1611.05141)", "estimate", "MNIST soft-LIF -> LIF", "99.12% (0.88% error)", "-", "-", "5.9x-14.4x less than the ANN (their estimate)"),
]


def load(name):
    path = RESULTS / name
    if not path.exists():
        return None
    return json.loads(path.read_text())


def pct(x):
    return "-" if x is None else f"{x:.3f}"


def by_step(acc, steps=(1, 2, 4, 8, 16)):
    return " / ".join(f"{acc[s - 1]:.2f}" if s <= len(acc) else "-" for s in steps)


def accuracy_section(glm, nets, soft):
    lines = ["## Accuracy against time steps", "",
             "Golden = the bit-exact integer model on the whole test split; RTL = the same on Icarus for the first "
             "test samples (every spike compared); ANN = the same-shape non-spiking network. By step: accuracy when "
             "the decision is cut off after step 1 / 2 / 4 / 8 / 16.", "",
             "| source | data set | network | float | golden | RTL subset (samples) | ANN | by step 1/2/4/8/16 | mean decision step |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in (glm or {}).get("entries", []):
        rtl = e.get("rtl_sram") or {}
        sub = f"{rtl['accuracy_rtl']:.3f} ({rtl['rtl_samples']})" if rtl else "-"
        lines.append(f"| glm.json | {e['dataset']} | {e['network']} k={e['weight_bits']} | {pct(e.get('accuracy_float'))} | "
                     f"{pct(e['accuracy_golden'])} | {sub} | {pct(e.get('accuracy_ann'))} | {by_step(e['accuracy_by_step'])} | "
                     f"{e['mean_decision_step']:.2f} |")
    for e in nets or []:
        lines.append(f"| networks.json | {e['dataset']} | {e['network']} ({e['decision']}) k={e['weight_bits']} | - | "
                     f"{pct(e['accuracy_golden'])} | {e['accuracy_rtl_subset']:.3f} ({e['rtl_checked_samples']}) | "
                     f"{pct(e.get('accuracy_ann'))} | {by_step(e['accuracy_by_step'])} | {e['mean_decision_step']:.2f} |")
    for e in (soft or {}).get("entries", []):
        if e.get("study") == "default":
            lines.append(f"| softlif.json | {e['dataset']} | {e['network']} k={e['weight_bits']} | - | {pct(e['accuracy_golden'])} | - | "
                         f"{pct(e.get('accuracy_softlif_ann'))} (soft-LIF), {pct(e.get('accuracy_relu_ann'))} (ReLU) | "
                         f"{by_step(e['accuracy_by_step'])} | - |")
    if glm is None and nets is None and soft is None:
        lines.append("| (no accuracy results: run `make bench`) | | | | | | | | |")
    lines += ["", "![accuracy vs time step](results/accuracy_by_step.png)", ""]
    return lines


def hardware_section(glm, nets, cost):
    lines = ["## Cycles, decision step, events and synaptic operations, lane utilization", "",
             "Cycles from the RTL's counter (core start to decision). Lane utilization = synaptic operations / "
             "(lanes x cycles); its bound from the measured activity (docs/architecture.md) is in the cost rows.", "",
             "| source | network | cycles/inference mean | p99 | decision step | events/inference (per layer) | synaptic ops/inference (per layer) | lane utilization | bound |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in (glm or {}).get("entries", []):
        rtl = e.get("rtl_sram")
        if rtl:
            lines.append(f"| glm.json | {e['dataset']} {e['network']} k={e['weight_bits']} | {rtl['cycles_per_inference_mean']:,.1f} | "
                         f"{rtl['cycles_per_inference_p99']:,.0f} | {e['mean_decision_step']:.2f} | "
                         f"{', '.join(f'{x:,.1f}' for x in e['golden_events_per_layer'])} | "
                         f"{', '.join(f'{x:,.0f}' for x in e['golden_sops_per_layer'])} | {rtl['lane_utilization']:.3f} | - |")
    for e in nets or []:
        lines.append(f"| networks.json | {e['dataset']} {e['network']} | {e['cycles_per_inference_mean']:,.1f} | "
                     f"{e['cycles_per_inference_p99']:,.0f} | {e['mean_decision_step']:.2f} | "
                     f"{', '.join(f'{x:,.1f}' for x in e['events_per_inference_per_layer'])} | "
                     f"{', '.join(f'{x:,.0f}' for x in e['sops_per_inference_per_layer'])} | {e['lane_utilization']:.3f} | - |")
    for r in cost or []:
        if r["memory"] == "sram":
            lines.append(f"| cost.json (no stalls) | {r['network']} | {r['cycles']:,.1f} | - | {r['decision_step_mean']:.2f} | "
                         f"{', '.join(f'{x:,.1f}' for x in r['events_per_inference_per_layer'])} | "
                         f"{', '.join(f'{x:,.0f}' for x in r['sops_per_inference_per_layer'])} | "
                         f"{r['lane_utilization']:.3f} | {r['lane_utilization_bound']:.3f} |")
    return lines + [""]


def synth_section(synth):
    lines = ["## Resources and Fmax", ""]
    if not synth:
        return lines + ["Not measured yet: `bench/results/synth.json` is absent (written by the synthesis flow).", ""]
    rows = synth if isinstance(synth, list) else synth.get("entries", [synth])

    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else "no"
        return f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)

    lines += ["Yosys resources of the core, nextpnr Fmax of the board tops (core + UART link), microseconds per "
              "inference = measured RTL cycles / Fmax; no open place-and-route for Artix-7. Details and the "
              "comparison with Spiker+: [results/synth.md](results/synth.md).", "",
              "| model | network | target | LUT | FF | BRAM36 | DSP | Fmax (MHz) | fits | cycles/inference | us/inference |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(cell(r.get(k)) for k in ("model", "network", "target", "lut", "ff", "bram36", "dsp",
                                                                 "fmax_mhz", "fits", "cycles_per_inference_mean",
                                                                 "us_per_inference")) + " |")
    return lines + [""]


def cost_section(cost):
    lines = ["## Cost model: STT-RAM vs SRAM synapses", ""]
    if not cost:
        return lines + ["Not measured: `bench/results/cost.json` is absent (`python bench/cost.py`).", ""]
    lines += [f"Model figures (not measurements of silicon): activity from RTL counters, device table at "
              f"{cost[0]['technology_node_nm']} nm, {cost[0]['clock_mhz']} MHz (sim/devices.json, docs/cost_model.md). "
              "Details, energy breakdown and the Hunsberger & Eliasmith estimate: [results/cost.md](results/cost.md).", "",
              "| network | memory | energy/inference (nJ) | latency (us) | area (mm2) | GSOPS | GSOPS/W | GSOPS/W/mm2 | EDP (J s) | ratio STT/SRAM | most sensitive parameter |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in cost:
        lines.append(f"| {r['network']} | {r['memory']} | {r['energy_per_inference_j'] * 1e9:.3g} | {r['latency_s'] * 1e6:.3g} | "
                     f"{r['area_mm2']:.4f} | {r['gsops']:.3g} | {r['gsops_per_w']:.4g} | {r['gsops_per_w_mm2']:.4g} | "
                     f"{r['edp']:.3g} | {r['ratio_gsops_per_w_mm2_sttram_over_sram']:.2f} | `{r['most_sensitive_parameter']}` |")
    lines += ["", "![energy per inference STT-RAM vs SRAM](results/energy_sttram_vs_sram.png)", ""]
    return lines


def window_section(window):
    """SpikeX window mode (bench/window.py): per network the time-sequential engine, the best
    single window and the best per-layer windows, against the issue's targets."""
    lines = ["## Window mode (SpikeX): EDP against the time-sequential engine", ""]
    if not window:
        return lines + ["Not measured: `bench/results/window.json` is absent (`python bench/window.py`).", ""]
    lines += ["Reads: the golden model's exact count for the schedule (docs/semantics.md section 7); cycles: the window "
              "engine's cycle model on 200 samples, calibrated on the schedule's own RTL run (RTL-calibrated) or "
              "on the W = 1 run (model); energy and EDP: "
              "cost model, SRAM synapses. EDP ratio = EDP(W = 1) / EDP (higher is better). Targets (issue 15): >= 8x "
              "on the 64-step soft-LIF and the spike-count networks, >= 1.0x on first-to-spike. All rows: "
              "[results/window.md](results/window.md).", "",
              "| network | decision | schedule | (W, A) per layer | cycles | reads/SOP | discarded SOPs | energy (nJ) | "
              "latency (us) | EDP ratio | ECP5 Fmax MHz (vs W = 1) | RTL samples (mismatches) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in window:
        if r["schedule_kind"] not in ("time-sequential", "best single W", "best per-layer W"):
            continue
        rtl = f"{r['rtl_samples']} ({r['rtl_mismatches']})" if r["rtl_samples"] else "model only"
        if r.get("fmax_mhz"):
            fmax = f"{r['fmax_mhz']:.1f}" + (f" ({r['fmax_ratio_vs_sequential']:.2f})"
                                              if r.get("fmax_ratio_vs_sequential") else "")
        else:
            fmax = "does not fit" if r.get("ecp5_fits") is False else "-"
        lines.append(f"| {r['network']} | {r['decision']} | {r['schedule_kind']} | "
                     f"{' '.join(f'({w},{a})' for w, a in r['schedule'])} | {r['cycles_mean']:,.0f} "
                     f"({'RTL-calibrated' if r['cycles_source'] == 'rtl' else 'model'}) | {r['reads_per_sop']:.4f} | "
                     f"{r['discarded_sop_fraction']:.1%} | {r['energy_per_inference_j'] * 1e9:.3g} | "
                     f"{r['latency_s'] * 1e6:.3g} | {r['edp_ratio_vs_sequential']:.2f}x | {fmax} | {rtl} |")
    lines += ["", "![EDP and latency against W](results/window.png)", ""]
    return lines


def speed_section(glm, nets, soft, tools):
    lines = ["## Tool speed (this machine)", "",
             "| network | training (s) | golden inferences/s | cocotb simulated cycles/s | Verilog generation (s) |",
             "|---|---|---|---|---|"]
    for e in (glm or {}).get("entries", []):
        rtl = e.get("rtl_sram") or {}
        lines.append(f"| glm.json {e['dataset']} k={e['weight_bits']} | {e['train_seconds']:.1f} | "
                     f"{e['golden_inferences_per_second']:,.0f} | {rtl.get('sim_cycles_per_second', float('nan')):,.0f} | - |")
    for e in nets or []:
        lines.append(f"| networks.json {e['dataset']} {e['network']} | {e['train_seconds']:.1f} | - | "
                     f"{e['sim_cycles_per_second']:,.0f} | - |")
    for e in (soft or {}).get("entries", []):
        if e.get("study") == "default":
            lines.append(f"| softlif.json {e['dataset']} | {e['train_seconds']:.1f} | - | - | - |")
    for e in (tools or {}).get("entries", []):
        lines.append(f"| toolspeed.json {e['network']} | - | {e['golden_inferences_per_second']:,.0f} | - | {e['verilog_seconds']:.1f} |")
    vs = (tools or {}).get("golden_vs_snntorch")
    if vs:
        one = vs.get("one_thread_inferences_per_cpu_second", {})
        lines += ["", f"Golden model against snnTorch's float simulation of the same network ({vs['network']}, "
                      f"batch {vs['batch']}, {vs['t_max']} steps, {vs['threads']} threads): golden "
                      f"{vs['golden_inferences_per_second']:,.0f} inferences/s, snnTorch "
                      f"{vs['snntorch_inferences_per_second']:,.0f} ({vs['golden_over_snntorch']:.2f}x); one thread, "
                      f"per CPU second: {one.get('golden', float('nan')):,.0f} against "
                      f"{one.get('snntorch', float('nan')):,.0f} ({one.get('golden_over_snntorch', float('nan')):.2f}x); "
                      f"accuracy {vs['accuracy_golden']:.3f} golden, {vs['accuracy_snntorch_float']:.3f} snnTorch "
                      f"(load average {vs['load_average_1min'][0]:.1f} on {vs['cpu_count']} cores)."]
    if tools and tools.get("raster"):
        r = tools["raster"]
        lines += ["", f"Spike raster of one inference ({r['network']}, test sample {r['sample']}, label {r['label']}, "
                      f"class {r['class']}, decided at step {r['decision_step']}):", "",
                  "![spike raster](results/spike_raster.png)"]
    return lines + [""]


def published_section(glm, nets, cost, synth=None):
    lines = ["## Against published systems", "",
             "Published rows are the authors' figures (board measurements or their own emulation); our rows are "
             "measured here (accuracy, cycles, resources, Fmax) or come from our cost model (energy), as marked. "
             "Latency of ours: measured cycles at the ECP5 Fmax nextpnr reached (FPGA rows) or at the cost model's "
             "clock (45 nm rows).", "",
             "| system | kind | target | network | accuracy | resources | latency / inference | power, energy | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, target, net, acc, res, lat, energy in PUBLISHED:
        lines.append(f"| {name} | published | {target} | {net} | {acc} | {res} | {lat} | {energy} | ANCHORS.md |")
    # FPGA rows: Artix-7 resources (Yosys) beside the ECP5 Fmax of the same Verilog (nextpnr).
    for e in synth or []:
        if e["target"] != "xc7a35t" or e["dataset"] != "mnist5k":
            continue
        ecp5 = next((x for x in synth if x["model"] == e["model"] and x["target"] == "ecp5-85f" and x.get("fmax_mhz")), None)
        lat = (f"{ecp5['us_per_inference']:.0f} us at {ecp5['fmax_mhz']:.1f} MHz (ECP5)" if ecp5 else "-")
        lines.append(f"| spinaps {e['model']} | measured | xc7a35t (Yosys), ECP5-85F (nextpnr) | {e['network']} | "
                     f"{100 * e['accuracy_golden']:.1f}% (golden) | {e['lut']:,} LUT, {e['bram36']:g} BRAM36 | {lat} | - | "
                     f"bench/results/synth.json |")
    cost_by_artifact = {}
    for r in cost or []:
        cost_by_artifact.setdefault(Path(r["artifact"]).stem, {})[r["memory"]] = r
    for stem, rows in cost_by_artifact.items():
        sram, stt = rows.get("sram"), rows.get("sttram")
        if not (sram and stt):
            continue
        lines.append(f"| spinaps {sram['network']} | measured (accuracy, cycles) + model (energy) | 45 nm model, "
                     f"{sram['clock_mhz']} MHz | {sram['network'].split(' (')[0]} | see accuracy table | "
                     f"{sram['memory_bits']:,} synapse cells, {sram['area_mm2']:.3f} / {stt['area_mm2']:.3f} mm2 (SRAM / STT-RAM) | "
                     f"{sram['latency_s'] * 1e6:.2f} us | {sram['energy_per_inference_j'] * 1e9:.3g} / {stt['energy_per_inference_j'] * 1e9:.3g} nJ; "
                     f"STT/SRAM GSOPS/W/mm2 = {sram['ratio_gsops_per_w_mm2_sttram_over_sram']:.2f}x | bench/results/cost.json |")
    return lines + [""]


def included_section(title, name, render, picture=None):
    """A stage's own markdown (its script's ``markdown``), headings demoted under ``title``."""
    doc = load(name)
    if doc is None:
        return [f"## {title}", "", f"`results/{name}` not written yet (its bench stage has not run).", ""]
    text = render(doc)
    body = text.splitlines() if isinstance(text, str) else list(text)
    body = [("#" + line) if line.startswith("#") else line for line in body]
    if body and body[0].lstrip("#").strip() and body[0].startswith("##"):
        body = body[1:]              # the script's own title: replaced by ``title``
    return [f"## {title}", ""] + body + ([f"", f"![{title}](results/{picture})"] if picture else []) + [""]


def search_section(search):
    lines = ["## Architecture search (`make bench-search`)", ""]
    if not search:
        return lines + ["`results/search.json` not written yet (run `make bench-search`).", ""]
    pts = search["points"]
    pareto = [p for p in pts if p.get("pareto")]
    lines += [f"`{search['command']}`: {search['trials']} trials, {len(pts)} evaluated points, "
              f"{len(pareto)} on the Pareto front, {search['seconds'] / 60:.0f} min on this machine. "
              "Cycles: RTL-measured for confirmed points, otherwise the cycle model scaled by the calibration "
              "(column `cycles from`); Fmax: nextpnr for confirmed points.", "",
              "| data set | target | layers | lanes | schedule | memory | golden acc. | cycles | cycles from | Fmax MHz "
              "| us/inference | LUT | fits | EDP (J s) | RTL mismatches |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in sorted(pareto, key=lambda p: -p["accuracy_golden"]):
        def f(v, fmt):
            return "-" if v is None else format(v, fmt)
        lines.append(f"| {p['dataset']} | {p['target']} | {' '.join(p['layers'])} | {p['lanes']} | {p['schedule']} "
                     f"| {p['memory']} | {p['accuracy_golden']:.3f} | {f(p['cycles_mean'], '.0f')} "
                     f"| {p['cycles_source']} | {f(p['fmax_mhz'], '.1f')} | {f(p['us_per_inference'], '.2f')} "
                     f"| {f(p['lut'], 'd')} | {p['fits']} | {f(p['edp'], '.3g')} | {f(p['rtl_mismatches'], 'd')} |")
    for png in sorted(RESULTS.glob("search_*_pareto_*.png")):
        lines += ["", f"![{png.stem}](results/{png.name})"]
    return lines + [""]


def suite_section(suite):
    if not suite:
        return []
    lines = ["## This run", "", f"`{suite['command']}`: {suite['total_seconds'] / 60:.1f} minutes on {suite['cores']} cores.", "",
             "| stage | seconds |", "|---|---|"]
    lines += [f"| {s['stage']}{' (second core, alongside the others)' if s.get('concurrent') else ''} | {s['seconds']:.0f} |"
              for s in suite["stages"]]
    return lines + [""]


def main(argv=None):
    glm, nets, soft = load("glm.json"), load("networks.json"), load("softlif.json")
    cost, tools, synth, suite = load("cost.json"), load("toolspeed.json"), load("synth.json"), load("suite.json")
    window, search = load("window.json"), load("search.json")
    sources = [n for n in ("glm.json", "networks.json", "softlif.json", "cost.json", "window.json", "toolspeed.json",
                           "synth.json", "suite.json", "verification.json", "faults.json", "hwaware.json", "search.json",
                           "mnist5k_fast.json")
               if (RESULTS / n).exists()]
    sys.path.insert(0, str(HERE))
    import faults
    import hwaware
    import mnist5k_fast
    import verification
    lines = ["# Benchmark results", "",
             "Generated by `python bench/report.py` (run last by `make bench` / `make bench-quick`) from "
             + ", ".join(f"`results/{n}`" for n in sources) + "; every figure is read from those files, written by "
             "the bench scripts on this machine. Per-script details: [networks](results/networks.md), "
             "[soft-LIF](results/softlif.md), [cost](results/cost.md), "
             "[iCE40 timing at 48 MHz](results/timing_ice40.md).", ""]
    lines += suite_section(suite)
    lines += accuracy_section(glm, nets, soft)
    lines += hardware_section(glm, nets, cost)
    lines += synth_section(synth)
    lines += cost_section(cost)
    lines += window_section(window)
    lines += speed_section(glm, nets, soft, tools)
    lines += included_section("Every test sample in RTL (verification)", "verification.json", verification.markdown)
    lines += included_section("STT-RAM write errors", "faults.json", faults.markdown, "faults.png")
    lines += included_section("Hardware-aware training", "hwaware.json", hwaware.markdown, "hwaware.png")
    lines += search_section(search)
    lines += included_section("mnist5k under 5 us on the ECP5-85F (`make bench-search`)", "mnist5k_fast.json",
                              mnist5k_fast.markdown)
    lines += published_section(glm, nets, cost, synth)
    from spinaps.toolchain import atomic_write_text
    atomic_write_text(HERE / "RESULTS.md", "\n".join(lines))
    print(f"wrote {HERE / 'RESULTS.md'} from {', '.join(sources) or 'no result files'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
