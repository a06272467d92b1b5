"""Tool speed per bench artifact (Verilog generation time, golden-model inferences/s) and a
spike raster of one inference (every layer, from the golden model's layer_spikes).

    python bench/toolspeed.py            # every artifact under build/bench*/
    python bench/toolspeed.py --quick    # digits artifacts only

Writes bench/results/toolspeed.json and bench/results/spike_raster.png. Every number is
measured by this run.
"""

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from cost import RTL_CELL_LIMIT, cells, describe, find_artifacts  # noqa: E402  (one artifact search for every bench script)


def measure(artifact, build, ds):
    from spinaps.flow import golden_throughput, write_accelerator_verilog

    t0 = time.perf_counter()
    write_accelerator_verilog(artifact, build / Path(artifact.path).stem)
    verilog_s = time.perf_counter() - t0
    repeat = max(1, min(10, 4000 // len(ds.y_test)))
    golden_throughput(artifact, ds, repeat=1)          # warm-up: torch's first calls are slow
    return {"network": describe(artifact), "artifact": str(artifact.path), "verilog_seconds": verilog_s,
            "golden_inferences_per_second": golden_throughput(artifact, ds, repeat=repeat),
            "golden_samples_timed": repeat * len(ds.y_test)}


def raster(artifact, ds, path, sample=0):
    """Input spikes and every layer's spikes of one test inference, up to its decision step (a
    read-out that does not spike shows its potentials): spinaps.plots, as `spinaps report --plot`."""
    from spinaps.plots import raster_plot

    info = raster_plot(artifact, ds, path, sample)
    return {"network": describe(artifact), "sample": info["sample"], "label": info["label"],
            "class": info["class"], "decision_step": info["decision_step"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits artifacts only")
    ap.add_argument("--build", default="build")
    args = ap.parse_args(argv)
    from spinaps.sw.datasets import load_dataset
    from spinaps.flow import write_json

    # Verilog generation of MNIST-size networks takes minutes each here: the same limit as bench/cost.py.
    artifacts = [a for a in find_artifacts(args.quick, Path(args.build)) if cells(a) <= RTL_CELL_LIMIT]
    if not artifacts:
        print("error: no artifacts under build/bench*/: run bench/run.py or bench/networks.py first", file=sys.stderr)
        return 2
    datasets, rows = {}, []
    for artifact in tqdm(artifacts, desc="tool speed", unit="network"):
        name = artifact.manifest["dataset"]["name"]
        ds = datasets.setdefault(name, load_dataset(name))
        rows.append(measure(artifact, Path(args.build) / "toolspeed_verilog", ds))
    # The raster shows the deepest digits network (every layer), else the first one.
    pick = max(artifacts, key=lambda a: (a.manifest["dataset"]["name"] == "digits", len(a.manifest["layers"])))
    shown = raster(pick, datasets[pick.manifest["dataset"]["name"]], RESULTS / "spike_raster.png")
    command = "python bench/toolspeed.py" + (" --quick" if args.quick else "")
    write_json(RESULTS / "toolspeed.json", {"command": command, "entries": rows, "raster": shown})
    for r in rows:
        print(f"{r['network']}: Verilog {r['verilog_seconds']:.1f} s, golden {r['golden_inferences_per_second']:,.0f} inf/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
