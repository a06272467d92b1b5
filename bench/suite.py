"""Every benchmark in one command, then bench/RESULTS.md regenerated from all the JSON files.

    python bench/suite.py            # `make bench`: every data set and network (2-3 hours on 2 cores)
    python bench/suite.py --quick    # `make bench-quick`: digits only, small RTL subsets (within 5 min)

Stages, each its own script (each also runs alone): bench/run.py (GLM first-to-spike),
bench/networks.py (hidden LIF layers), bench/softlif.py (soft-LIF conversion), bench/cost.py
(STT-RAM vs SRAM cost model over the artifacts the stages before built), bench/window.py (SpikeX
window schedules: EDP against the time-sequential engine), bench/toolspeed.py
(Verilog generation time, golden inferences/s, spike raster), bench/verification.py (every
test sample of every network in RTL on Verilator, the soak), bench/faults.py (STT-RAM write
errors), bench/hwaware.py (hardware-aware training: accuracy against estimated and RTL-measured
EDP per beta) run in this order on one core;
bench/synth.py (Yosys resources, nextpnr Fmax, us per inference) runs at the same time on the
other core (it trains its own models and shares no file with them); then bench/report.py.
Every stage runs with one torch thread. Stage times go to bench/results/suite.json. A failing
stage stops the suite with a non-zero exit naming it.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STAGES = ["run", "networks", "softlif", "synth", "cost", "window", "toolspeed", "verification", "faults", "hwaware"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits only, small RTL subsets")
    ap.add_argument("--only", nargs="+", choices=STAGES, help="run these stages only (then the report)")
    args = ap.parse_args(argv)
    from spinaps.flow import write_json

    stages = [s for s in STAGES if not args.only or s in args.only]
    # One torch thread per stage: on a loaded 2-core machine two threads spin against each
    # other (measured: digits GLM training 158 s with the default threads, 9 s with one).
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    times, t_start = [], time.perf_counter()
    logs = ROOT / "build" / "bench_logs"
    logs.mkdir(parents=True, exist_ok=True)

    def command(stage):
        return [sys.executable, str(HERE / f"{stage}.py")] + (["--quick"] if args.quick and stage != "report" else [])

    # Stage output goes to a log (each stage draws its own bars); the suite's bar stays readable.
    background = {}
    if "synth" in stages:
        # Yosys and nextpnr are single-threaded: the synthesis stage takes the second core.
        f = open(logs / "synth.log", "w")
        background["synth"] = (subprocess.Popen(command("synth"), cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env),
                               f, time.perf_counter())

    def finish_background(name):
        proc, f, t0 = background.pop(name)
        rc = proc.wait()
        f.close()
        times.append({"stage": name, "seconds": time.perf_counter() - t0, "concurrent": True})
        return rc

    def fail(stage, rc):
        bar.close()
        for proc, f, _ in background.values():
            proc.terminate()
            f.close()
        print(f"bench stage '{stage}' failed (exit {rc}); its output: {logs / (stage + '.log')}", file=sys.stderr)
        return rc

    bar = tqdm([s for s in stages if s not in background] + list(background) + ["report"], desc="bench", unit="stage")
    for stage in bar:
        bar.set_postfix_str(stage)
        if stage in background:
            rc = finish_background(stage)
            if rc:
                return fail(stage, rc)
            continue
        if stage == "report":
            # Written before the report so that it shows this run's stage times.
            write_json(HERE / "results" / "suite.json", {
                "command": ("make bench" + ("-quick" if args.quick else "")) if not args.only else
                           "python bench/suite.py" + (" --quick" if args.quick else "") + " --only " + " ".join(args.only),
                "quick": args.quick,
                "cores": os.cpu_count(), "stages": times, "total_seconds": time.perf_counter() - t_start})
        t0 = time.perf_counter()
        with open(logs / f"{stage}.log", "w") as f:
            rc = subprocess.call(command(stage), cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env)
        if rc:
            return fail(stage, rc)
        times.append({"stage": stage, "seconds": time.perf_counter() - t0})
    total = time.perf_counter() - t_start
    print(f"bench{' --quick' if args.quick else ''}: {total / 60:.1f} min; "
          + ", ".join(f"{t['stage']} {t['seconds']:.0f} s" for t in times) + "; see bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
