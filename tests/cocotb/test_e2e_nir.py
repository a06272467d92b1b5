"""cocotb on Icarus, end to end on a network trained in snnTorch and imported through NIR
(spinaps.sw.nir_import): every spike of every layer, the class and the decision step equal the
golden model's (docs/nir.md; semantics sections 5b, 6, 7)."""

import importlib.util
from pathlib import Path

import pytest

from spinaps.flow import rtl_check
from spinaps.sw import artifact as art

pytest.importorskip("nir")
pytest.importorskip("snntorch")

pytestmark = pytest.mark.cocotb


def _nir_tests():
    """tests/sw/test_nir.py, which owns the snnTorch training (test folders are not packages)."""
    path = Path(__file__).parents[1] / "sw" / "test_nir.py"
    spec = importlib.util.spec_from_file_location("spinaps_test_nir", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_snntorch_import_rtl_equals_golden(tmp_path):
    nir_tests = _nir_tests()
    ds, graph, snn_accuracy = nir_tests.train_snntorch_digits()
    from spinaps.sw.nir_import import import_nir

    manifest, arrays, result = import_nir(graph, ds, dt=nir_tests.SNNTORCH_DT, t_max=nir_tests.T_MAX,
                                          reset="subtract", source_accuracy=snn_accuracy)
    artifact = art.load(art.save(tmp_path / "digits_nir.npz", manifest, arrays))
    run, cmp, labels = rtl_check(artifact, 20, build_dir=tmp_path / "rtl", dataset=ds, stall=0.2)
    assert len(run.results) == 20 and not run.probe_overflow
    assert cmp.mismatches == [], cmp.describe()
    rtl_accuracy = sum(r["cls"] == y for r, y in zip(run.results, labels)) / len(labels)
    golden_first = float((result.cls[:20] == labels).mean())
    assert rtl_accuracy == golden_first
    print(f"snnTorch {snn_accuracy:.4f}, golden {result.accuracy(ds.y_test):.4f} (360 test samples); "
          f"golden = RTL {rtl_accuracy:.4f} on the first 20")
