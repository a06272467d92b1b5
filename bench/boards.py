"""Board flows of the digits model: bitstreams, Fmax, utilization, build time, link speed.

    python bench/boards.py                  # about 20 minutes
    python bench/boards.py --only icebreaker/default   # those builds again, into boards.json
    python bench/boards.py --markdown-only  # boards.md again from boards.json

Trains the digits GLM model once (the `spinaps train` defaults), exports it as is (the
export defaults of spinaps.sw.lanes: 5 neuron lanes, 8 encoder lanes, sized for the iCE40
UP5K) and with 2 neuron lanes and 4 encoder lanes (the smallest, fastest build), builds bitstreams
through the open flow (the iCEBreaker's builds at 48 MHz; nextpnr seeds tried in turn until
one meets timing: CASES; every run, ``--only`` too, trains the model anew) and runs the board core
in cocotb with the host client on a UART model. Writes bench/results/boards.json and
bench/results/boards.md; every number is measured by this run on this machine.
"""

import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BUILD = HERE.parent / "build" / "bench_boards"

CASES = [
    # (board, model variant, core MHz: "default" = the board's PLL setting, None = oscillator;
    #  nextpnr seeds, tried in turn until one meets timing: boards.build.build_seeds)
    ("icebreaker", "small", 48.0, (1, 2, 3, 4)),
    ("icebreaker", "default", 48.0, (1, 2)),
    ("ulx3s", "default", "default", (1,)),
    ("ulx3s", "small", "default", (1,)),
]


def models():
    from spinaps.flow import export_and_save, train_and_export
    from spinaps.sw.datasets import load_dataset

    BUILD.mkdir(parents=True, exist_ok=True)
    path = BUILD / "digits.npz"
    _, trained, _ = train_and_export("digits", path, progress=True, checkpoint=False)
    small = BUILD / "digits_small.npz"
    export_and_save(trained, load_dataset("digits"), small, encoder_lanes=4, lanes=2)
    return {"default": path, "small": small}


def link_speed(path, n=24):
    """Simulated board: the client over the UART model, 4 clocks per bit."""
    from spinaps.boards.top import BoardTop
    from spinaps.boards.board_runner import simulate_board
    from spinaps.sw import artifact as art
    from spinaps.sw.datasets import load_dataset
    from spinaps.flow import sample_seeds
    from spinaps.sw.golden import GoldenModel
    from spinaps.boards.client import compare_answers

    model = GoldenModel.from_artifact(art.load(path))
    ds = load_dataset("digits")
    xs, seeds = ds.x_test[:n], sample_seeds(n)
    core = BoardTop("icebreaker", model).elaborate(None)
    t0 = time.perf_counter()
    out, build_s = simulate_board(core, "classify", {"samples": [[int(s), x.tolist()] for s, x in zip(seeds, xs)]},
                                  build_dir=BUILD / f"cocotb_{path.stem}")
    wall = time.perf_counter() - t0
    mism = compare_answers(model.run(xs, seeds), out["answers"])
    cycles = [a["cycles"] for a in out["answers"]]
    return {"samples": n, "mismatches": len(mism), "cocotb_seconds": round(wall, 1),
            "verilog_and_icarus_build_seconds": round(build_s, 1), "simulation_wall_seconds": round(out["wall_s"], 1),
            "mean_cycles_per_inference": sum(cycles) / n}


def main(only=None):
    """Every case, or with ``only`` (``board/variant`` names) just those, their rows replacing
    the same rows of the committed boards.json (the board-core simulation is kept)."""
    from spinaps.boards.build import BuildError, build_seeds

    paths = models()
    entries = []
    for board, variant, mhz, seeds in CASES:
        if only and f"{board}/{variant}" not in only:
            continue
        out = BUILD / f"{board}_{variant}_{mhz}"
        t0 = time.perf_counter()
        try:
            rep = build_seeds(board, paths[variant], out, seeds, core_mhz=mhz)
            rep = {k: v for k, v in rep.items() if k != "critical_paths"} | {"critical_path": rep["critical_paths"][0]}
            rep["fits"] = True
        except BuildError as e:
            rep = {"board": board, "fits": False, "error": str(e).splitlines()[0][:400],
                   "seconds": round(time.perf_counter() - t0, 1)}
        rep["model_variant"] = variant
        entries.append(rep)
        print(json.dumps(rep)[:400], flush=True)
    if only:
        result = json.loads((RESULTS / "boards.json").read_text())
        fresh = {(e["board"], e["model_variant"]): e for e in entries}
        result["builds"] = [fresh.get((e["board"], e["model_variant"]), e) for e in result["builds"]]
    else:
        sim = {variant: link_speed(path) for variant, path in paths.items()}
        result = {"host": platform.node(), "python": sys.version.split()[0], "builds": entries, "cocotb_board": sim}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "boards.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "boards.md").write_text(markdown(result))
    print(markdown(result))


def markdown(result):
    lines = ["# Board flows (measured by bench/boards.py)", "",
             "digits GLM first-to-spike model (`spinaps train` defaults); *default* = exported as trained "
             "(5 neuron lanes, 8 encoder lanes), *small* = `--lanes 2 --encoder-lanes 4`. 115200 baud link "
             "included. Seeds: the nextpnr seeds tried in turn until one met timing (`--seed 1-4`), with "
             "each one's Fmax; the row is the build kept.", "",
             "| board | model | fits | clock MHz | seeds: Fmax MHz | Fmax MHz | timing met | iCE40 LC / ECP5 LUT4 | ECP5 FF | RAM | DSP | build s | critical path |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in result["builds"]:
        if not e["fits"]:
            lines.append(f"| {e['board']} | {e['model_variant']} | no | | | | | | | | | {e['seconds']} | {e['error'][:160]} |")
            continue
        u = e["utilization"]

        def used(*names):
            return " / ".join(f"{u[n]['used']} of {u[n]['available']}" for n in names if n in u) or "-"
        cp = e["critical_path"]
        seeds_text = ", ".join(f"{t['seed']}: " + (f"{t['fmax_mhz']:.2f}" if t["fmax_mhz"] else "not placed")
                               for t in e.get("seeds", []))
        lines.append(
            f"| {e['board']} | {e['model_variant']} | yes | {e['clock_mhz']:.2f} | {seeds_text} | {e['fmax_mhz']:.2f} | "
            f"{'yes' if e['timing_met'] else 'no'} | {used('ICESTORM_LC', 'TRELLIS_COMB')} | "
            f"{used('TRELLIS_FF')} | {used('ICESTORM_RAM', 'DP16KD')} | {used('ICESTORM_DSP', 'MULT18X18D')} | "
            f"{e['seconds']} | {cp['delay_ns']} ns, {cp['segments']} segments, {cp['start']} -> {cp['end']} |")
    lines += ["", "## Board core in cocotb (client + UART model, 4 clocks per bit)", "",
              "| model | samples | mismatches with golden | cocotb s (total) | Verilog + Icarus build s | simulation s | mean cycles/inference |",
              "|---|---|---|---|---|---|---|"]
    for variant, s in result["cocotb_board"].items():
        lines.append(f"| {variant} | {s['samples']} | {s['mismatches']} | {s['cocotb_seconds']} | "
                     f"{s['verilog_and_icarus_build_seconds']} | {s['simulation_wall_seconds']} | "
                     f"{s['mean_cycles_per_inference']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if "--markdown-only" in sys.argv:          # re-render boards.md from boards.json
        (RESULTS / "boards.md").write_text(markdown(json.loads((RESULTS / "boards.json").read_text())))
    elif "--only" in sys.argv:                 # e.g. --only icebreaker/default
        main(only=sys.argv[sys.argv.index("--only") + 1].split(","))
    else:
        main()
