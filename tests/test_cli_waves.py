"""`spinaps verify --waves`: one chosen sample on Icarus, its waves in a VCD, RTL accuracy and cycles."""

import pytest

from spinaps.cli import main


@pytest.mark.cocotb
def test_verify_writes_the_waves_of_one_sample(digits_small_artifact, tmp_path, capsys):
    vcd = tmp_path / "waves" / "sample5.vcd"
    assert main(["verify", "--model", str(digits_small_artifact), "--waves", str(vcd), "--sample", "5",
                 "--build-dir", str(tmp_path / "build"), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "RTL accuracy" in out and "on 1 test samples (5..5)" in out and "cycles per inference" in out
    text = vcd.read_text(errors="replace")
    assert text.startswith("$date") or "$timescale" in text[:2000]          # VCD, not FST
    assert "$var" in text and " clk " in text and "$enddefinitions" in text
    assert len(text) > 10_000
