"""Tool speed per bench artifact (Verilog generation time, golden-model inferences/s), the
golden model against snnTorch's own float simulation of the same network, and a spike raster
of one inference (every layer, from the golden model's layer_spikes).

    python bench/toolspeed.py            # every artifact under build/bench*/
    python bench/toolspeed.py --quick    # digits artifacts only

Writes bench/results/toolspeed.json and bench/results/spike_raster.png. Every number is
measured by this run.

Golden model vs snnTorch (``golden_vs_snntorch``; issue 16: the golden model is the design
search's inner loop): the digits 64-64-10 LIF spike-count network of bench/networks.py
(trained here when build/bench_networks/ does not hold it), 16 steps, batches of 512, torch on
2 threads. snnTorch runs the same weights, biases, thresholds, leak (beta = 1 - 2^-leak_shift)
and reset in float with its own rate encoder (``spikegen.rate``); each side's accuracy on the
test split is recorded beside its speed, as a check that both ran the network.
"""

import argparse
import os
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


SNN_NETWORK = "digits_lif_spike_count_64"      # bench/networks.py's tag of that network
SNN_CONFIG = dict(hidden=(64,), output="lif", decision="spike_count")
SNN_BATCH, SNN_THREADS, SNN_STEPS = 512, 2, 16


def snn_artifact(artifacts, build):
    """The digits 64-64-10 LIF spike-count artifact: bench/networks.py's, or trained now."""
    for a in artifacts:
        if Path(a.path).stem == SNN_NETWORK:
            return a
    from spinaps.flow import train_network_and_export
    from spinaps.sw import artifact as art
    from spinaps.sw.lif import LifNetConfig

    path = build / "bench_networks" / f"{SNN_NETWORK}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    train_network_and_export("digits", path, config=LifNetConfig(**SNN_CONFIG), progress=False, checkpoint=False)
    return art.load(path)


def snntorch_network(model):
    """The golden model's LIF layers as an snnTorch network (float copies of the integers)."""
    import snntorch as snn
    import torch

    mods = []
    for lp in model.layers:
        linear = torch.nn.Linear(lp.n_in, lp.n_out)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(lp.weights, dtype=torch.float32))
            linear.bias.copy_(torch.as_tensor(lp.bias, dtype=torch.float32))
        beta = 1.0 - 2.0 ** -lp.leak_shift if lp.leak_shift else 1.0
        mods += [linear, snn.Leaky(beta=beta, threshold=torch.as_tensor(lp.threshold, dtype=torch.float32),
                                   reset_mechanism=lp.reset, init_hidden=True)]
    return torch.nn.Sequential(*mods).eval()


def golden_vs_snntorch(artifact, ds, repeat=5):
    """Inferences/s of the golden model and of snnTorch on the same network and inputs, best of
    ``repeat`` alternating runs over the test split tiled to whole batches."""
    import numpy as np
    import torch
    from snntorch import spikegen, utils

    from spinaps.contract import sample_seeds
    from spinaps.sw.golden import GoldenModel

    model = GoldenModel.from_artifact(artifact)
    if model.t_max != SNN_STEPS or model.decision != "spike_count":
        raise SystemExit(f"error: {artifact.path} is not the {SNN_STEPS}-step spike-count network this comparison "
                         f"needs (t_max = {model.t_max}, decision = {model.decision}); delete it and rerun")
    net = snntorch_network(model)
    n = SNN_BATCH * max(4, -(-4 * len(ds.y_test) // SNN_BATCH))
    x = np.resize(np.asarray(ds.x_test), (n, ds.x_test.shape[1]))
    labels = np.resize(np.asarray(ds.y_test), n)
    seeds = sample_seeds(n)

    def golden():
        return model.run(x, seeds, batch=SNN_BATCH).cls

    def snntorch():
        out = []
        with torch.no_grad():
            for i in range(0, n, SNN_BATCH):
                utils.reset(net)
                spikes = spikegen.rate(torch.as_tensor(x[i:i + SNN_BATCH], dtype=torch.float32) / 256,
                                       num_steps=SNN_STEPS)
                counts = 0
                for t in range(SNN_STEPS):
                    counts = counts + net(spikes[t])
                out.append(counts.argmax(dim=1))
        return torch.cat(out).numpy()

    accuracy = {}

    def measure(threads, clock):
        """Best inferences/s of each side over ``repeat`` alternating runs on ``threads``."""
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            golden(), snntorch()                   # warm-up (first calls, caches)
            best = {"golden": 0.0, "snntorch": 0.0}
            for _ in range(repeat):
                for name, fn in (("golden", golden), ("snntorch", snntorch)):
                    t0 = clock()
                    cls = fn()
                    best[name] = max(best[name], n / (clock() - t0))
                    accuracy[name] = float(np.mean(cls == labels))
        finally:
            torch.set_num_threads(before)
        return best

    load_before = os.getloadavg()[0]
    best = measure(SNN_THREADS, time.perf_counter)
    # On a shared machine wall time swings with the other jobs; one thread's CPU time does not
    # (much), so it is recorded too: inferences per CPU second.
    cpu = measure(1, time.process_time)
    return {"network": describe(artifact), "artifact": str(artifact.path), "batch": SNN_BATCH,
            "threads": SNN_THREADS, "t_max": SNN_STEPS, "inferences_timed": n, "repeats": repeat,
            "golden_inferences_per_second": best["golden"], "snntorch_inferences_per_second": best["snntorch"],
            "golden_over_snntorch": best["golden"] / best["snntorch"],
            "accuracy_golden": accuracy["golden"], "accuracy_snntorch_float": accuracy["snntorch"],
            "one_thread_inferences_per_cpu_second": {**cpu, "golden_over_snntorch": cpu["golden"] / cpu["snntorch"]},
            # Both sides run alternately, so a busy machine slows both; its load says how busy.
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpu_count": os.cpu_count()}


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
    versus = golden_vs_snntorch(snn_artifact(artifacts, Path(args.build)), datasets.setdefault("digits", load_dataset("digits")))
    command = "python bench/toolspeed.py" + (" --quick" if args.quick else "")
    write_json(RESULTS / "toolspeed.json", {"command": command, "entries": rows, "raster": shown,
                                            "golden_vs_snntorch": versus})
    for r in rows:
        print(f"{r['network']}: Verilog {r['verilog_seconds']:.1f} s, golden {r['golden_inferences_per_second']:,.0f} inf/s")
    print(f"{versus['network']}: golden {versus['golden_inferences_per_second']:,.0f} inf/s, snnTorch "
          f"{versus['snntorch_inferences_per_second']:,.0f} inf/s (ratio {versus['golden_over_snntorch']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
