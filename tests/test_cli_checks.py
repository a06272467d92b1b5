"""Issue 13's bad-input list, one test each: every command checks its options, output paths and
board before it trains, simulates or synthesizes, and fails with one message naming the option
or file, no traceback, nothing written."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from spinaps.cli import build_parser, main

#: A folder no one can create files in, root included (procfs).
UNWRITABLE = Path("/proc/spinaps-no-such-folder")


def _one_clean_error(capsys, *names):
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("error:") == 1, err
    for name in names:
        assert name in err, (name, err)
    return out, err


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*"))


def test_train_lanes_beyond_the_output_layer_fail_before_training(tmp_path, capsys):
    assert main(["train", "--lanes", "100", "--out", str(tmp_path / "m.npz")]) == 2
    out, err = _one_clean_error(capsys, "--lanes", "100", "10 neurons")
    assert "torch threads" not in out           # printed just before training starts
    assert _files(tmp_path) == []


@pytest.mark.parametrize("argv, option", [
    (["train", "--out", str(UNWRITABLE / "m.npz")], "--out"),
    (["export", "--out", str(UNWRITABLE / "m.npz")], "--checkpoint"),     # the checkpoint is checked first
    (["verilog", "--out", str(UNWRITABLE)], "--out"),
    (["synth", "--out", str(UNWRITABLE)], "--out"),
    (["pnr", "--out", str(UNWRITABLE)], "--out"),
    (["verify", "--build-dir", str(UNWRITABLE)], "--build-dir"),
    (["verify", "--waves", str(UNWRITABLE / "w.vcd")], "--waves"),
    (["report", "--json", str(UNWRITABLE / "r.json")], "--json"),
    (["report", "--plot", str(UNWRITABLE)], "--plot"),
    (["demo", "--out", str(UNWRITABLE)], "--out"),
    (["cost", "--build", str(UNWRITABLE)], "--build"),
    (["vivado-plan", "--out", str(UNWRITABLE / "a.zip")], "--out"),
])
def test_unwritable_output_is_refused_first(argv, option, capsys):
    assert main(argv) == 2
    _one_clean_error(capsys, option)


def test_output_below_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file" / "m.npz")]) == 2
    _one_clean_error(capsys, "--out", "not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_read_only_folder(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    assert main(["verilog", "--out", str(ro / "v")]) == 2
    _one_clean_error(capsys, "--out", "cannot write")


def test_an_oserror_half_way_is_one_message(tmp_path, tiny_glm_artifact, capsys):
    # The folder is writable, but the Verilog file's name is taken by a folder: the write fails
    # with an OSError inside the command, which the CLI reports without a traceback.
    from spinaps.sw import artifact as art
    model = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    (tmp_path / "v" / "spinaps_accelerator.v").mkdir(parents=True)
    assert main(["verilog", "--model", str(model), "--out", str(tmp_path / "v")]) == 2
    _one_clean_error(capsys, "spinaps_accelerator.v")


@pytest.mark.parametrize("baud", ["0", "-9600", "10000000"])
def test_bitstream_baud_out_of_range(tmp_path, baud, capsys):
    assert main(["bitstream", "--board", "icebreaker", "--baud", baud, "--out", str(tmp_path / "b")]) == 2
    _one_clean_error(capsys, "--baud", baud)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("seed", ["0", "x", "4-1", "1-100"])
def test_bitstream_bad_seed(tmp_path, seed, capsys):
    assert main(["bitstream", "--board", "icebreaker", "--seed", seed, "--out", str(tmp_path / "b")]) == 2
    _one_clean_error(capsys, "--seed", seed)
    assert not (tmp_path / "b").exists()


def test_synth_baud_zero(tmp_path, capsys):
    assert main(["synth", "--target", "ice40up5k", "--baud", "0", "--out", str(tmp_path / "s")]) == 2
    _one_clean_error(capsys, "--baud")


def test_verify_needs_a_sample(tmp_path, capsys):
    assert main(["verify", "-n", "0", "--build-dir", str(tmp_path / "v")]) == 2
    _one_clean_error(capsys, "-n 0")
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize("name, hint", [("nosuch", "icebreaker"), ("arty", "vivado-plan")])
def test_pnr_board_is_checked_before_simulating(tmp_path, name, hint, capsys):
    assert main(["pnr", "--board", name, "--out", str(tmp_path / "p")]) == 2
    _one_clean_error(capsys, "--board", name, hint)
    assert not (tmp_path / "p").exists()


def test_prog_arty_points_to_the_vivado_plan(capsys):
    assert main(["prog", "--board", "arty"]) == 2
    _, err = _one_clean_error(capsys, "--bitstream", "spinaps vivado-plan --board arty")
    assert "make bitstream" not in err


def test_prog_missing_bitstream(tmp_path, capsys):
    assert main(["prog", "--board", "icebreaker", "--bitstream", str(tmp_path / "x.bin")]) == 2
    _one_clean_error(capsys, "x.bin", "spinaps bitstream --board icebreaker")


def test_help_shows_defaults_and_every_option_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sp in sub.choices.items():
        text = sp.format_help()
        for action in sp._actions:
            if action.dest == "help":
                continue
            assert action.help, f"spinaps {name} {action.option_strings}: no help text"
            if action.default not in (None, False) and action.option_strings:
                assert "default" in action.help or f"(default: {action.default})" in " ".join(text.split()), \
                    f"spinaps {name} {action.option_strings[0]}: default {action.default!r} not shown"
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "(default: digits)" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["train", "report", "verify", "pnr", "run", "cost", "export"])
def test_every_data_command_takes_data(command):
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert "--data" in sub.choices[command]._option_string_actions


def test_report_with_other_data_says_so(digits_artifact, tmp_path, capsys):
    assert main(["report", "--model", str(digits_artifact.path), "--data", "mnist5k"]) == 2
    _one_clean_error(capsys, "digits")


def test_bad_threads(digits_artifact, monkeypatch, capsys):
    assert main(["report", "--threads", "0", "--model", str(digits_artifact.path)]) == 2
    _one_clean_error(capsys, "--threads")
    monkeypatch.setenv("SPINAPS_THREADS", "many")
    assert main(["report", "--model", str(digits_artifact.path)]) == 2
    _one_clean_error(capsys, "SPINAPS_THREADS")


def test_train_saves_then_exports_and_export_guards(tmp_path, capsys):
    """`spinaps train` saves the checkpoint before the export and says where; `export` refuses
    to overwrite without --force and warns (old vs new golden accuracy) when lanes change."""
    m = tmp_path / "m.npz"
    assert main(["train", "--epochs", "2", "--out", str(m), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "torch threads: 1 (--threads)" in out
    assert out.index(f"saved the trained network to {m.with_suffix('.pt')}") < out.index(f"wrote {m}")
    assert main(["export", "--checkpoint", str(m.with_suffix(".pt")), "--out", str(m)]) == 2
    _one_clean_error(capsys, "--out", "--force")
    small = tmp_path / "small.npz"
    assert main(["export", "--checkpoint", str(m.with_suffix(".pt")), "--out", str(small), "--lanes", "2",
                 "--encoder-lanes", "4"]) == 0
    _, err = capsys.readouterr()
    assert "warning: lanes [5] -> [2], encoder lanes 8 -> 4" in err and "golden accuracy 0." in err
    assert main(["export", "--checkpoint", str(m.with_suffix(".pt")), "--out", str(small), "--force",
                 "--lanes", "2", "--encoder-lanes", "4"]) == 0
    assert "warning" not in capsys.readouterr().err         # same lanes as the file it replaces


def test_a_failed_export_keeps_the_checkpoint(tmp_path):
    import torch

    from spinaps.flow import train_and_export
    from spinaps.sw.train import GlmTrainConfig
    out = tmp_path / "m.npz"
    out.mkdir()                         # the export cannot write its artifact here
    with pytest.raises(OSError):
        train_and_export("digits", out, config=GlmTrainConfig(epochs=1, ann_baseline=False, eval_repeats=1),
                         progress=False)
    trained = torch.load(out.with_suffix(".pt"), weights_only=False)
    assert trained.dataset_name == "digits"


def test_ctrl_c_is_one_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "m.npz"
    proc = subprocess.Popen([sys.executable, "-m", "spinaps.cli", "train", "--epochs", "200", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:                # wait until training starts
            if line.startswith("torch threads"):
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert _files(tmp_path) == []


@pytest.mark.synth
def test_synth_on_a_board_target_includes_the_link(digits_small_artifact, tmp_path, capsys):
    assert main(["synth", "--model", str(digits_small_artifact), "--target", "ice40up5k",
                 "--out", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "icebreaker board core (accelerator + UART link" in out
    assert "module spinaps_board_core" in (tmp_path / "s" / "spinaps_board_core.v").read_text()
    assert "UART link" in (tmp_path / "s" / "synth.md").read_text()


def test_train_and_report_on_a_data_file(tmp_path, digits_artifact, capsys):
    """--data FILE through train and report."""
    from spinaps.sw import datasets
    import numpy as np
    d = datasets.load_dataset("digits")
    data = tmp_path / "mine.npz"
    # Not the built-in digits: other value range, fewer training samples.
    np.savez(data, x_train=d.x_train[:900] / 16.0, y_train=d.y_train[:900], x_test=d.x_test / 16.0, y_test=d.y_test)
    m = tmp_path / "m.npz"
    assert main(["train", "--data", str(data), "--epochs", "2", "--out", str(m), "--threads", "1"]) == 0
    capsys.readouterr()
    assert main(["report", "--model", str(m), "--data", str(data)]) == 0
    assert "accuracy_golden" in capsys.readouterr().out
    assert main(["report", "--model", str(m)]) == 2                    # its data is not built in
    _one_clean_error(capsys, "--data")
    assert main(["report", "--model", str(digits_artifact.path), "--data", str(data)]) == 2
    _one_clean_error(capsys)


def test_per_layer_weight_widths_and_lanes_are_checked_before_training(tmp_path, capsys):
    """`--weight-bits 4,2` / `--lanes 8,5` are per layer: wrong counts and ranges are refused
    before any training, naming the layer."""
    from spinaps.cli import main
    out = str(tmp_path / "m.npz")
    assert main(["train", "--network", "hybrid", "--hidden", "16", "--weight-bits", "4,3", "--out", out]) == 2
    assert "--weight-bits" in capsys.readouterr().err
    assert main(["train", "--network", "glm", "--weight-bits", "4,2", "--out", out]) == 2
    assert "one width per layer" in capsys.readouterr().err
    assert main(["train", "--network", "hybrid", "--hidden", "16", "--lanes", "4,5,6", "--out", out]) == 2
    assert "one per layer" in capsys.readouterr().err
    assert main(["train", "--network", "hybrid", "--hidden", "16", "--lanes", "17,5", "--out", out]) == 2
    assert "layer 0" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def test_a_hybrid_trains_with_one_width_and_lane_count_per_layer(tmp_path):
    from spinaps.cli import main
    from spinaps.sw import artifact as art
    out = tmp_path / "m.npz"
    assert main(["train", "--network", "hybrid", "--hidden", "16", "--weight-bits", "4,2", "--lanes", "4,5",
                 "--epochs", "1", "--threads", "1", "--out", str(out)]) == 0
    layers = art.load(out).manifest["layers"]
    assert [layer["weight_bits"] for layer in layers] == [4, 2]
    assert [layer["lanes"] for layer in layers] == [4, 5]


def test_a_ctrl_c_something_swallowed_comes_again():
    # Once a library caught the KeyboardInterrupt and went on (a fresh clone's run of the test
    # above once trained to the end): the CLI's handler raises it again half a second later.
    import threading
    import time

    from spinaps import cli

    previous = signal.signal(signal.SIGINT, cli._sticky_interrupt)
    swallowed, caught = 0, None
    try:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 5:
                try:
                    time.sleep(0.01)
                except KeyboardInterrupt:
                    if swallowed:
                        raise
                    swallowed += 1          # the library that loses it
        except KeyboardInterrupt:
            caught = time.monotonic() - t0
    finally:
        cli._cancel_repeats()
        signal.signal(signal.SIGINT, previous)
    assert swallowed == 1 and caught is not None and caught > 0.4     # the repeat, within the loop's 5 s
