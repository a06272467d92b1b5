"""Run a board core on Icarus with the host client on a UART model
(:mod:`spinaps.boards.cocotb_board`)."""

import json
from pathlib import Path

from spinaps.sim.cocotb_env import IN_ENV
from spinaps.sim.runner import simulate

__all__ = ["simulate_board"]


def simulate_board(core, testcase, params, *, build_dir, test_module="spinaps.boards.cocotb_board"):
    """Write ``core`` (a :class:`spinaps.boards.board_core.BoardCore`) as Verilog, run the
    cocotb test ``testcase`` of ``test_module`` (:mod:`spinaps.boards.cocotb_board`, or
    :mod:`spinaps.boards.cocotb_abuse`) with ``params`` (JSON-able; the UART timing, model
    shape and read timeout are added here) and return ``(observed, build seconds)``."""
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    acc = core.accelerator
    # A generous read timeout: the longest inference is below t_max * (every input and
    # every synapse word) cycles.
    per_step = acc.encoder.groups + 64 + sum(layer.n_in * layer.k * layer.words + layer.n_in + layer.words
                                             for layer in acc.layers)
    params = {**params, "clocks_per_bit": core.clocks_per_bit, "timeout_bits": core.timeout_bits,
              "n_layers": len(acc.layers),
              "read_timeout_cycles": 2 * acc.t_max * per_step + 40 * core.clocks_per_bit * 64}
    stim = build_dir / "board_in.json"
    stim.write_text(json.dumps(params))
    return simulate(core, "board_core", build_dir=build_dir, test_module=test_module,
                    testcase=testcase, out_file=build_dir / f"board_{testcase}.json", env={IN_ENV: str(stim)})
