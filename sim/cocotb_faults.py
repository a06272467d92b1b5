"""cocotb test module for the harness with a run-time weight load (``spinaps.sim.faults_runner``).

The end-to-end test of :mod:`spinaps.sim.cocotb_e2e` runs unchanged (the harness has its
ports); then the write counters the loader snapshot are added to its JSON.
"""

import json
import os

import cocotb

from spinaps.sim import cocotb_e2e
from spinaps.sim.cocotb_env import OUT_ENV
from spinaps.sw.write_faults import WRITE_COUNTERS      # numpy only: light in the simulator's Python


@cocotb.test()
async def load_then_infer(dut):
    await cocotb_e2e.end_to_end.func(dut)
    with open(os.environ[OUT_ENV]) as f:
        out = json.load(f)
    layers = int(os.environ["SPINAPS_E2E_LAYERS"])
    out["loaded"] = int(dut.loaded.value)
    out["counters"] = [{name: int(getattr(dut, f"{name}{index}").value) for name in WRITE_COUNTERS}
                       for index in range(layers)]
    with open(os.environ[OUT_ENV], "w") as f:
        json.dump(out, f)
