"""Resources, Fmax and time per inference of trained models on Artix-7, iCE40 UP5K and ECP5-85F.

    python bench/synth.py            # digits and mnist5k, GLM and hybrid, all lane configurations
    python bench/synth.py --quick    # digits GLM, narrow lanes only

For each model and lane configuration ("default": the export defaults, spinaps.sw.lanes;
"wide": one word per step in the output layer and 16 encoder lanes; "narrow": few lanes, for
small parts): train (or reuse the
checkpoint in build/bench_synth), export, golden accuracy on the test split, RTL on Icarus for
the first test samples (cycles per inference, every spike compared), Yosys synth_xilinx
(xc7a35t / xc7a100t: one netlist, two capacities) and, where a board build is asked for, the
full open flow of boards/build.py (Yosys + nextpnr with a fixed seed) for Fmax on the iCE40
UP5K (iCEBreaker top with its UART link) and the ECP5-85F (ULX3S top). Microseconds per
inference = measured mean cycles / Fmax. Results are cached by Verilog hash in
build/bench_synth/cache.json, so a re-run only repeats what changed. Writes
bench/results/synth.json and synth.md.
"""

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BUILD = Path("build/bench_synth")

# (tag, dataset, network, training options, {variant: (encoder lanes, layer lanes or None)},
#  boards to place and route per variant, RTL samples)
MODELS = [
    ("digits_glm", "digits", "glm", {}, {"default": (None, None), "wide": (16, 10), "narrow": (4, 2)},
     {"default": ("icebreaker", "ulx3s"), "narrow": ("icebreaker", "ulx3s")}, 40),
    ("digits_hybrid", "digits", "hybrid", dict(hidden=(64,)), {"wide": (16, [16, 10]), "narrow": (4, [8, 2])},
     {"narrow": ("icebreaker", "ulx3s")}, 40),
    ("mnist5k_glm", "mnist5k", "glm", {}, {"wide": (16, 10), "narrow": (4, 2)},
     {"wide": ("ulx3s",), "narrow": ("ulx3s",)}, 20),
    ("mnist5k_hybrid", "mnist5k", "hybrid", dict(hidden=(128,), epochs=25), {"wide": (16, [16, 10]), "narrow": (4, [4, 2])},
     {"narrow": ("ulx3s",)}, 20),
]
# Quick: the digits model's narrow board build only (its place and route is the fastest).
QUICK = [MODELS[0][:4] + ({"narrow": MODELS[0][4]["narrow"]},) + MODELS[0][5:]]
BOARD_TARGET = {"icebreaker": "ice40up5k", "ulx3s": "ecp5-85f"}

# Published comparison point (ANCHORS.md): Spiker+ (Carpegna et al., arXiv 2401.01141), MNIST MLP.
SPIKER_PLUS = {"logic_cells": 7612, "bram36": 18, "us_per_inference": 780, "accuracy": 0.9385}


def trained_model(tag, dataset, network, options):
    """The float model of ``tag``: from its checkpoint if an earlier run saved one, else trained."""
    import torch

    from spinaps.sw.datasets import load_dataset

    ckpt = BUILD / f"{tag}.pt"
    ds = load_dataset(dataset)
    if ckpt.exists():
        try:
            return torch.load(ckpt, weights_only=False), ds, None
        except (AttributeError, ModuleNotFoundError, EOFError, RuntimeError):
            pass            # written by another spinaps version (renamed classes): train again
    t0 = time.perf_counter()
    if network == "glm":
        from spinaps.sw.train import GlmTrainConfig, train_glm
        trained = train_glm(ds, GlmTrainConfig(**options), progress=False)
    else:
        from spinaps.sw.lif import LifNetConfig, train_network
        trained = train_network(ds, LifNetConfig(**options), progress=False)
    BUILD.mkdir(parents=True, exist_ok=True)
    torch.save(trained, ckpt)
    return trained, ds, time.perf_counter() - t0


class Cache:
    """Results keyed by Verilog hash and target, kept across runs."""

    def __init__(self, path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def get(self, key, compute):
        if key not in self.data:
            self.data[key] = compute()
            from spinaps.toolchain import atomic_write_text
            atomic_write_text(self.path, json.dumps(self.data, indent=1) + "\n")
        return self.data[key]


def place_and_route(board, artifact_path, out_dir):
    """Fmax and utilization from the board's full open flow (boards/build.py)."""
    from spinaps.boards.build import build
    report = build(board, artifact_path, out_dir)
    return {"fmax_mhz": report["fmax_mhz"], "clock_mhz": report.get("clock_mhz"), "timing_met": report.get("timing_met"),
            "pnr_utilization": report.get("utilization"), "critical_path": (report.get("critical_paths") or [None])[0],
            "build_seconds": report.get("seconds")}


def run_variant(tag, dataset, network, trained, ds, variant, lanes_cfg, boards, rtl_n, cache, pnr=True):
    from spinaps.toolchain import resources, synthesize
    from spinaps.flow import export_and_save, rtl_check, summarize, summarize_network, write_accelerator_verilog

    from spinaps.sw.lanes import DEFAULT_ENCODER_LANES

    encoder_lanes, lanes = lanes_cfg
    encoder_lanes = DEFAULT_ENCODER_LANES if encoder_lanes is None else encoder_lanes
    name = f"{tag}_{variant}"
    artifact, gold = export_and_save(trained, ds, BUILD / f"{name}.npz", encoder_lanes=encoder_lanes, lanes=lanes)
    run, cmp, labels = rtl_check(artifact, rtl_n, build_dir=BUILD / f"rtl_{name}", dataset=ds)
    rep = summarize(artifact, gold, ds.y_test, run, cmp, labels)
    work = BUILD / f"synth_{name}"
    t0 = time.perf_counter()
    verilog, _ = write_accelerator_verilog(artifact, work, name="spinaps_accelerator")
    verilog_s = time.perf_counter() - t0
    digest = hashlib.sha256(verilog.read_bytes()).hexdigest()[:16]
    common = {
        "model": name, "dataset": dataset, "network": summarize_network(artifact), "decision": artifact.manifest["decision"],
        "encoder_lanes": encoder_lanes, "lanes": [layer["lanes"] for layer in artifact.manifest["layers"]],
        "weight_bits": rep["weight_bits"], "accuracy_golden": rep["accuracy_golden"],
        "cycles_per_inference_mean": rep["cycles_per_inference_mean"],
        "cycles_per_inference_p99": rep["cycles_per_inference_p99"],
        "rtl_checked_samples": rep["rtl_samples"], "rtl_mismatches": rep["rtl_mismatches"],
        "verilog_seconds": verilog_s,
    }
    xc7 = cache.get(f"{digest}:xc7", lambda: synthesize(verilog, "spinaps_accelerator", "xc7a35t", work_dir=work,
                                                         progress=False))
    entries = []
    for target in ("xc7a35t", "xc7a100t"):
        entries.append({**common, "target": target, **resources(xc7["cells"], target),
                        "yosys_seconds": xc7["seconds"], "fmax_mhz": None, "us_per_inference": None})
    for board in boards:
        target = BOARD_TARGET[board]
        syn = cache.get(f"{digest}:{target}", lambda: synthesize(verilog, "spinaps_accelerator", target, work_dir=work,
                                                                  progress=False))
        res = resources(syn["cells"], target)
        entry = {**common, "target": target, "board": board, **res, "yosys_seconds": syn["seconds"],
                 "fmax_mhz": None, "us_per_inference": None}
        if res["fits"] and pnr:
            pnr_report = cache.get(f"{digest}:{board}:pnr", lambda: place_and_route(board, artifact.path, BUILD / f"board_{name}_{board}"))
            entry.update(pnr_report)
            fmax = pnr_report["fmax_mhz"]
            entry["us_per_inference"] = rep["cycles_per_inference_mean"] / fmax if fmax else None
        entries.append(entry)
    return entries


def markdown(entries, command):
    def num(v, fmt):
        return "-" if v is None else format(v, fmt)

    lines = [
        "# Resources, Fmax and time per inference",
        "",
        f"Measured by `{command}`: Yosys (YoWASP) resources of the accelerator core; Fmax from nextpnr "
        "(fixed seed) for the board tops (core + UART link); cycles per inference from the RTL on Icarus "
        "(first test samples, every spike compared with the golden model); us = cycles / Fmax. Artix-7 has "
        "no open place-and-route here, so it has no Fmax. LUT counts include LUT RAM.",
        "",
        "| model | network | lanes (enc; layers) | golden acc. | target | LUT | FF | BRAM36 | DSP | logic cells | fits | Fmax MHz | cycles/inf. | us/inf. |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['model']} | {e['network']} | {e['encoder_lanes']}; {', '.join(map(str, e['lanes']))} | "
            f"{e['accuracy_golden']:.3f} | {e['target']} | {e['lut']:,} | {e['ff']:,} | {e['bram36']:.1f} | {e['dsp']} | "
            f"{e['logic_cells']:,} | {'yes' if e['fits'] else 'no'} | {num(e['fmax_mhz'], '.1f')} | "
            f"{e['cycles_per_inference_mean']:,.0f} | {num(e['us_per_inference'], ',.1f')} |")
    ecp5 = {e["model"]: e for e in entries if e["target"] == "ecp5-85f" and e["us_per_inference"]}
    rows = [e for e in entries if e["target"] == "xc7a35t" and e["dataset"] == "mnist5k"]
    if rows:
        lines += ["", "## mnist5k on xc7a35t against Spiker+ (published, ANCHORS.md)", "",
                  "| system | source | accuracy | LUT | logic cells | BRAM36 | us/inference |", "|---|---|---|---|---|---|---|"]
        for e in rows:
            us = ecp5.get(e["model"], {}).get("us_per_inference")
            lines.append(f"| spinaps {e['model']} ({e['network']}) | measured | {e['accuracy_golden']:.3f} | {e['lut']:,} | "
                         f"{e['logic_cells']:,} | {e['bram36']:.1f} | {num(us, ',.1f')} (at the ECP5 Fmax) |")
        s = SPIKER_PLUS
        lines.append(f"| Spiker+ (Carpegna et al., arXiv 2401.01141) | published | {s['accuracy']:.4f} | - | "
                     f"{s['logic_cells']:,} | {s['bram36']} | {s['us_per_inference']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits GLM, narrow lanes only")
    ap.add_argument("--no-pnr", action="store_true", help="Yosys only: no board builds, no Fmax")
    args = ap.parse_args(argv)
    from spinaps.toolchain import atomic_write_text
    from spinaps.flow import write_json

    cache = Cache(BUILD / "cache.json")
    BUILD.mkdir(parents=True, exist_ok=True)
    entries = []
    models = QUICK if args.quick else MODELS
    jobs = [(m, v) for m in models for v in m[4]]
    with tqdm(jobs, desc="synth", unit="model") as bar:
        for (tag, dataset, network, options, variants, boards, rtl_n), variant in bar:
            bar.set_postfix_str(f"{tag} {variant}")
            trained, ds, _ = trained_model(tag, dataset, network, options)
            entries += run_variant(tag, dataset, network, trained, ds, variant, variants[variant],
                                   boards.get(variant, ()), rtl_n, cache, pnr=not args.no_pnr)
    command = "python bench/synth.py" + (" --quick" if args.quick else "")
    write_json(RESULTS / "synth.json", entries)
    atomic_write_text(RESULTS / "synth.md", markdown(entries, command))
    print(markdown(entries, command))


if __name__ == "__main__":
    sys.exit(main())
