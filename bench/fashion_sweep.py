"""Training variants of the fashion hybrid (784 -> 128 LIF -> GLM first-to-spike), short runs.

    python bench/fashion_sweep.py base decision h256 ...   # variants below; appends to
                                                           # bench/results/fashion_sweep.json

Each variant trains on a fixed 20,000-image subset for 10 epochs (about 1.5 min on an idle
core, against 7 for the full bench run), exports, and runs the golden model on all 10,000
test images. It answers "which knob moves the fashion accuracy" cheaply; the full run in
bench/networks.py (60,000 x 20) is what networks.json reports.
"""

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "fashion_sweep.json"
BASE = dict(hidden=(128,), epochs=10, max_train=20000, ann_baseline=False)
VARIANTS = {
    "base": {},
    "decision": dict(loss="decision"),               # loss matched to the decision rule
    "urange16": dict(u_range=16.0),                  # wider GLM potential range
    "h256": dict(hidden=(256,)),
    "dec_u16": dict(loss="decision", u_range=16.0),
    "leak3": dict(leak_shift=3),                     # slower hidden leak: longer integration
    "leak4": dict(leak_shift=4),
    "h256_leak4": dict(hidden=(256,), leak_shift=4),
    "t24": dict(t_max=24),                           # more time steps
    "lr1": dict(lr=1e-2),
    "expected30": dict(expected_from=0.3),           # 1 - P fine-tuning (sw.loss.expected_error)
    "expected70": dict(expected_from=0.7),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    ap.add_argument("--build", type=Path, default=Path("build/fashion_sweep"))
    args = ap.parse_args(argv)
    from spinaps.sw import artifact as art
    from spinaps.flow import golden_eval, train_network_and_export, write_json
    from spinaps.sw.lif import LifNetConfig

    rows = json.loads(OUT.read_text()) if OUT.exists() else []
    for name in args.variants:
        cfg = LifNetConfig(**{**BASE, **VARIANTS[name]})
        t0 = time.perf_counter()
        path = args.build / f"fashion_{name}.npz"
        _, trained, _ = train_network_and_export("fashion", path, config=cfg, progress=True, checkpoint=False)
        ds, res, _ = golden_eval(art.load(path))
        row = dict(name=name, changes=VARIANTS[name], accuracy_golden=res.accuracy(ds.y_test),
                   final_loss=trained.loss_history[-1], seconds=time.perf_counter() - t0)
        print(json.dumps(row), flush=True)
        rows = [r for r in rows if r["name"] != name] + [row]
        write_json(OUT, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
