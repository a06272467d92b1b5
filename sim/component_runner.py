"""Run one component's cocotb test (``spinaps.sim.cocotb_components``) on its generated Verilog.

The pytest side of the component tier (``tests/cocotb/test_components.py``) builds a
component, computes the expectations with the golden model and calls :func:`run_component`
with the stimulus; it gets back what the cocotb test observed, as a dict.
"""

import json
from pathlib import Path

from amaranth.hdl import Const, Module
from amaranth.lib import stream, wiring

from spinaps.hdl.verilog import atomic_write_text, write_verilog
from spinaps.sim.runner import require_icarus

__all__ = ["run_component", "verilog_top", "IN_ENV", "OUT_ENV"]

#: The cocotb test module, and the environment variables naming its input and output JSON.
TEST_MODULE = "spinaps.sim.cocotb_components"
IN_ENV = "SPINAPS_COMPONENT_IN"
OUT_ENV = "SPINAPS_COMPONENT_OUT"


class _PortWrapper(wiring.Component):
    """Same ports as ``inner``, with ``always_ready`` / ``always_valid`` streams made plain.

    Amaranth cannot export a constant (the ``ready`` of an ``always_ready`` stream) as a
    top-level port; the wrapper turns such a stream into an ordinary one whose constant
    member is an output port driven with that constant, so every stream keeps its
    ``<name>__valid`` / ``__ready`` / ``__payload`` ports.
    """

    def __init__(self, inner):
        self._inner = inner
        super().__init__(wiring.Signature({
            name: _plain_member(member) for name, member in inner.signature.members.items()
        }))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        outer = {path: value for path, _, value in self.signature.flatten(self)}
        for path, member, value in inner.signature.flatten(inner):
            if member.flow == wiring.Out:
                m.d.comb += outer[path].eq(value)       # constants included
            elif not isinstance(value, Const):
                m.d.comb += value.eq(outer[path])       # a constant input is left unconnected
        return m


def _plain_member(member):
    if not member.is_signature:
        return member
    sig = member.signature if member.flow == wiring.Out else member.signature.flip()
    if isinstance(sig, stream.Signature) and (sig.always_ready or sig.always_valid):
        payload = sig.members["payload"]
        sig = stream.Signature(payload.shape, payload_init=payload.init)
    return wiring.Member(member.flow, sig)


def verilog_top(component):
    """``component`` itself, or a :class:`_PortWrapper` when a port member is a constant."""
    for _, _, value in component.signature.flatten(component):
        if isinstance(value, Const):            # not exportable as a port
            return _PortWrapper(component)
    return component


def run_component(component, name, test_name, params, build_dir):
    """Simulate ``component`` on Icarus with cocotb test ``test_name``; return its observations.

    Writes ``<build_dir>/<name>.v`` (and the port JSON) with
    :func:`spinaps.hdl.verilog.write_verilog`, compiles it with Icarus (always: use one
    ``build_dir`` per parameter set), writes ``params`` to ``<build_dir>/in.json``, runs the
    test ``test_name`` of ``spinaps.sim.cocotb_components`` and returns the dict the test
    wrote to ``<build_dir>/out.json``. Raises ``SystemExit`` (under pytest) or
    ``RuntimeError`` when the cocotb test fails or writes nothing.
    """
    require_icarus()
    from cocotb_tools.runner import get_results, get_runner

    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    vfile, _ = write_verilog(verilog_top(component), build_dir, name)
    in_file, out_file = build_dir / "in.json", build_dir / "out.json"
    atomic_write_text(in_file, json.dumps(params))
    if out_file.exists():
        out_file.unlink()
    runner = get_runner("icarus")
    runner.build(sources=[vfile], hdl_toplevel=name, build_dir=build_dir, always=True,
                 timescale=("1ns", "1ps"), log_file=build_dir / "build.log")
    results = runner.test(test_module=TEST_MODULE, testcase=test_name, hdl_toplevel=name,
                          build_dir=build_dir, test_dir=build_dir, log_file=build_dir / "sim.log",
                          extra_env={IN_ENV: str(in_file), OUT_ENV: str(out_file)})
    tests, failed = get_results(results)
    if tests != 1 or failed:
        raise RuntimeError(f"cocotb test {test_name!r} on {name}: {tests} run, {failed} failed; "
                           f"see {build_dir / 'sim.log'}")
    if not out_file.exists():
        raise RuntimeError(f"cocotb test {test_name!r} wrote no results; see {build_dir / 'sim.log'}")
    return json.loads(out_file.read_text())
