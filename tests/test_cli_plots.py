"""`spinaps report --plot`: accuracy by step and a spike raster whose read-out panel is never blank."""

import numpy as np
import pytest

from spinaps.cli import main

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def max_potential_artifact(tmp_path_factory):
    """A small all-LIF digits network with a max-potential read-out (it never needs to spike)."""
    from spinaps.flow import train_network_and_export
    from spinaps.sw.lif import LifNetConfig
    path = tmp_path_factory.mktemp("maxpot") / "maxpot.npz"
    cfg = LifNetConfig(ann_baseline=False, hidden=(16,), epochs=2, output="lif", decision="max_potential")
    artifact, _, _ = train_network_and_export("digits", path, config=cfg, progress=False, checkpoint=False)
    return artifact


def _ink(png, box, margin=6):
    """Fraction of non-white pixels inside ``box`` (left, top, right, bottom), frame excluded."""
    import matplotlib.image as mpimg
    img = mpimg.imread(png)[..., :3]
    left, top, right, bottom = box
    inner = img[top + margin:bottom - margin, left + margin:right - margin]
    assert inner.size, box
    return float(np.mean(inner.min(axis=-1) < 0.9))


def test_report_plot_writes_both_pictures(max_potential_artifact, tmp_path, capsys):
    out = tmp_path / "plots"
    assert main(["report", "--model", str(max_potential_artifact.path), "--plot", str(out), "--sample", "3",
                 "--threads", "1"]) == 0
    import matplotlib.image as mpimg
    for name in ("accuracy_by_step.png", "raster_sample3.png"):
        img = mpimg.imread(out / name)
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert np.mean(img[..., :3].min(axis=-1) < 0.9) > 0.005       # something is drawn
    assert "wrote" in capsys.readouterr().out


def test_max_potential_readout_shows_potentials(max_potential_artifact, tmp_path):
    from spinaps.flow import data_for
    from spinaps.plots import raster_plot
    png = tmp_path / "r.png"
    info = raster_plot(max_potential_artifact, data_for(max_potential_artifact), png, sample=3)
    assert info["potentials_shown"]
    assert _ink(png, info["output_panel_px"]) > 0.002


def test_sample_out_of_range(max_potential_artifact, tmp_path, capsys):
    assert main(["report", "--model", str(max_potential_artifact.path), "--plot", str(tmp_path / "p"),
                 "--sample", "100000"]) == 2
    err = capsys.readouterr().err
    assert "--sample" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()
