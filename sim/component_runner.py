"""Run one component's cocotb test (``spinaps.sim.cocotb_components``) on its generated Verilog.

The pytest side of the component tier (``tests/cocotb/test_components.py``) builds a
component, computes the expectations with the golden model and calls :func:`run_component`
with the stimulus; it gets back what the cocotb test observed, as a dict.
"""

import json
from pathlib import Path

from amaranth.hdl import Const, Module
from amaranth.lib import stream, wiring

from spinaps.sim.cocotb_env import IN_ENV
from spinaps.sim.runner import simulate
from spinaps.toolchain import atomic_write_text

__all__ = ["run_component", "verilog_top"]

#: The cocotb test module (its input and output JSON files: ``spinaps.sim.cocotb_env``).
TEST_MODULE = "spinaps.sim.cocotb_components"


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

    Writes ``<build_dir>/<name>.v`` (use one ``build_dir`` per parameter set), passes
    ``params`` to the test through ``<build_dir>/in.json`` and returns the dict the test
    wrote (:func:`spinaps.sim.runner.simulate` does the building and running).
    """
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    in_file = build_dir / "in.json"
    atomic_write_text(in_file, json.dumps(params))
    observed, _ = simulate(verilog_top(component), name, build_dir=build_dir, test_module=TEST_MODULE,
                           testcase=test_name, out_file=build_dir / "out.json", env={IN_ENV: str(in_file)})
    return observed
