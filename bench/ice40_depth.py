"""Logic depth of the iCEBreaker board top, before place-and-route: which flip-flop inputs a
48 MHz clock cannot reach, in seconds instead of nextpnr's minutes and without its
placement noise (one seed to the next moves Fmax by 3-5 MHz).

    python bench/ice40_depth.py MODEL.npz [--mhz 48] [--limit 17.5] [--trace REGEX] [--out DIR]

Runs Yosys (`synth_ice40` with the flow's options, spinaps.toolchain.TARGETS) on the board
top at the given core clock, then estimates the arrival time at every flip-flop and block RAM
input of the netlist: clock-to-out 1.39 ns, a LUT 1.0 ns plus 1.76 ns of routing per level,
a carry 0.13 ns per bit (nextpnr-ice40's UP5K figures, rounded). It prints every register
group (the flip-flops of one signal, per input pin: D, E, R, ...) whose estimate is over
`--limit`, worst first, and with `--trace` the worst path into the groups matching REGEX,
each LUT with its inputs. Estimates ignore fan-out: a path nextpnr must route far is later
than this says, so 48 MHz (20.8 ns) wants about 17.5 ns here (bench/results/timing_ice40.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLOCK_TO_OUT, LUT, ROUTE, CARRY, SETUP, RAM_OUT = 1.39, 1.0, 1.76, 0.13, 0.8, 2.5


def synthesize(model_path, out, mhz):
    """Yosys on the iCEBreaker board top at ``mhz``; the netlist's JSON path."""
    from spinaps.boards.build import _load_model
    from spinaps.boards.top import BoardTop, board
    from spinaps.toolchain import TARGETS, tool_env

    b = board("icebreaker")
    top = BoardTop("icebreaker", _load_model(model_path), baud=115200, core_mhz=mhz)
    opts = TARGETS[b.target].script.partition(" ")[2]
    plan = b.platform_class()().build(top, name="top", build_dir=str(out), do_build=False, synth_opts=opts)
    plan.extract(str(out))
    env = tool_env()
    subprocess.run([env.get("YOSYS", "yosys"), "-q", "-l", "top.rpt", "top.ys"], cwd=out, env=env, check=True)
    return out / "top.json"


class Netlist:
    """Arrival estimates over a Yosys JSON netlist (the module with the most cells)."""

    def __init__(self, path):
        modules = json.loads(Path(path).read_text())["modules"]
        self.cells = max(modules.values(), key=lambda mod: len(mod.get("cells", {})))["cells"]
        self.driver = {}
        for name, cell in self.cells.items():
            for port, direction in cell["port_directions"].items():
                if direction == "output":
                    for bit in cell["connections"][port]:
                        if isinstance(bit, int):
                            self.driver[bit] = (name, port)
        self.memo = {}

    def arrival(self, bit):
        if not isinstance(bit, int) or bit not in self.driver:
            return 0.0
        if bit in self.memo:
            return self.memo[bit]
        self.memo[bit] = 0.0                  # a loop through logic (none in a synchronous design)
        name, _ = self.driver[bit]
        cell = self.cells[name]
        kind, conn = cell["type"], cell["connections"]
        if kind == "SB_LUT4":
            value = max(self.arrival(conn[i][0]) + ROUTE for i in ("I0", "I1", "I2", "I3")) + LUT
        elif kind == "SB_CARRY":
            value = max(self.arrival(conn["CI"][0]) + CARRY,
                        max(self.arrival(conn[i][0]) for i in ("I0", "I1")) + ROUTE + 0.4)
        elif kind.startswith("SB_DFF"):
            value = CLOCK_TO_OUT
        elif kind.startswith("SB_RAM") or kind == "SB_MAC16":
            value = RAM_OUT
        else:
            value = 0.0
        self.memo[bit] = value
        return value

    def endpoints(self):
        """``(arrival, cell, pin)`` of every flip-flop, block RAM and DSP input, worst first."""
        out = []
        for name, cell in self.cells.items():
            kind, conn = cell["type"], cell["connections"]
            if kind.startswith("SB_DFF"):
                out += [(self.arrival(conn[p][0]) + ROUTE + SETUP, name, p) for p in ("D", "E", "R", "S") if p in conn]
            elif kind.startswith("SB_RAM") or kind == "SB_MAC16":
                out += [(self.arrival(b) + ROUTE + SETUP, name, p)
                        for p, d in cell["port_directions"].items() if d == "input" for b in conn[p]]
        return sorted(out, reverse=True)

    def path(self, bit):
        """The worst path into ``bit``: per LUT or carry, its arrival, name and inputs."""
        lines = []
        while isinstance(bit, int) and bit in self.driver:
            name, _ = self.driver[bit]
            cell = self.cells[name]
            lines.append(f"{self.arrival(bit):6.2f} {cell['type']} {name[:110]}")
            if cell["type"] not in ("SB_LUT4", "SB_CARRY"):
                break
            inputs = [cell["connections"][i][0] for i in ("I0", "I1", "I2", "I3", "CI") if i in cell["connections"]]
            bit = max(inputs, key=self.arrival)
        return lines


def group_of(cell):
    """A register group's name: the signal Yosys named the cell after."""
    return re.sub(r"\[\d+\]|_\d+$", "", re.sub(r"_SB_.*", "", cell))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="artifact (.npz)")
    ap.add_argument("--mhz", type=float, default=48.0, help="core clock of the board top")
    ap.add_argument("--limit", type=float, default=17.5, help="list register groups over this many ns")
    ap.add_argument("--trace", help="regex: print the worst path into matching groups")
    ap.add_argument("--out", default=str(HERE.parent / "build" / "ice40_depth"), help="Yosys build folder")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net = Netlist(synthesize(args.model, out, args.mhz))
    ends = net.endpoints()
    groups = collections.OrderedDict()
    for arrival, cell, pin in ends:
        if arrival < args.limit:
            break
        groups.setdefault((group_of(cell), pin), []).append(arrival)
    print(f"{sum(len(v) for v in groups.values())} flip-flop/RAM inputs over {args.limit} ns "
          f"(worst {ends[0][0]:.2f} ns)")
    for (group, pin), arrivals in groups.items():
        print(f"{max(arrivals):6.2f} ns {len(arrivals):4d} x {pin:5} {group}")
    if args.trace:
        shown = set()
        for arrival, cell, pin in ends:
            if re.search(args.trace, cell) and group_of(cell) not in shown and len(shown) < 4:
                shown.add(group_of(cell))
                print(f"\n{arrival:.2f} ns into {cell}.{pin}:")
                print("\n".join("  " + line for line in net.path(net.cells[cell]["connections"][pin][0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
