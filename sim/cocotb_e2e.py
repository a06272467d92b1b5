"""cocotb test module for the end-to-end harness (run by ``spinaps.sim.runner``).

One await lets the whole run happen in the simulator (Icarus or Verilator); then the
captures are read out and written as JSON to ``$SPINAPS_OUT`` for the Python side to
compare with the golden model.
"""

import json
import os
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, Timer, with_timeout

from spinaps.sim.cocotb_env import OUT_ENV


@cocotb.test()
async def end_to_end(dut):
    Clock(dut.clk, 10, unit="ns").start(start_high=False)
    dut.rst.value = 1
    dut.rd_addr.value = 0
    # A file-fed harness's run-time inputs (samples, bytes, stall thresholds), held all run.
    for port, value in json.loads(os.environ.get("SPINAPS_E2E_DRIVE") or "{}").items():
        getattr(dut, port).value = value
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    t0 = time.perf_counter()
    max_cycles = int(os.environ["SPINAPS_E2E_MAX_CYCLES"])
    await with_timeout(RisingEdge(dut.done), max_cycles * 10, "ns")
    # The counters change at the clock edge that raises `done`: at RisingEdge(done) one
    # simulator may not have updated them yet (Icarus read one cycle less than Verilator).
    # Read them once the time step has settled.
    await ReadOnly()
    wall = time.perf_counter() - t0
    cycles = int(dut.cycles.value)
    n_layers = int(os.environ["SPINAPS_E2E_LAYERS"])
    n_results = int(dut.results.value)
    n_probes = [int(getattr(dut, f"probes{index}").value) for index in range(n_layers)]
    await Timer(1, "ns")                 # out of the read-only phase before driving rd_addr
    results, probes = [], [[] for _ in range(n_layers)]
    for a in range(max(n_results, *n_probes)):
        dut.rd_addr.value = a
        await Timer(1, "ns")
        if a < n_results:
            results.append(int(dut.rd_result.value))
        for index in range(n_layers):
            if a < n_probes[index]:
                probes[index].append(int(getattr(dut, f"rd_probe{index}").value))
    out = dict(cycles=cycles, wall_s=wall, results=results, probes=probes,
               probe_overflow=int(dut.probe_overflow.value))
    with open(os.environ[OUT_ENV], "w") as f:
        json.dump(out, f)
