"""cocotb on Icarus: the board core (accelerator + UART link) driven by the host client over a
UART model; every answer equals the golden model's, and every bad frame gets its error frame
without hanging the core."""

import dataclasses

import numpy as np
import pytest

from spinaps.boards import protocol as p
from spinaps.boards.top import BoardTop
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.boards.board_runner import simulate_board
from spinaps.sw.datasets import load_dataset
from spinaps.flow import sample_seeds
from spinaps.sw.golden import GoldenModel

pytestmark = pytest.mark.cocotb


def _expect(gold, i, answer):
    return {"cls": int(gold.cls[i]), "step": int(gold.step[i]), "decided": int(gold.decided[i]),
            "events": gold.events[i].tolist(), "sops": gold.sops[i].tolist()}, \
        {k: answer[k] for k in ("cls", "step", "decided", "events", "sops")}


def test_board_classifies_like_golden(tmp_path, digits_artifact):
    model = GoldenModel.from_artifact(digits_artifact)
    ds = load_dataset("digits")
    n = 24
    xs, seeds = ds.x_test[:n], sample_seeds(n)
    core = BoardTop("icebreaker", model).elaborate(None)
    out, _ = simulate_board(core, "classify", {"samples": [[int(s), x.tolist()] for s, x in zip(seeds, xs)]},
                            build_dir=tmp_path)
    info = p.Info(**out["info"])
    assert info == core.info and info.fingerprint == p.model_fingerprint(model)
    gold = model.run(xs, seeds)
    assert len(out["answers"]) == n and out["framing_errors"] == 0
    for i, answer in enumerate(out["answers"]):
        want, got = _expect(gold, i, answer)
        assert got == want, f"sample {i}"
        assert answer["cycles"] > 0 and answer["busy"][0] > 0
    assert len({a["step"] for a in out["answers"]}) >= 2     # decisions at several steps


def _flipped_rows(model, inputs):
    """Synapse writes negating every weight of ``inputs`` in layer 0, and the model they make."""
    lp = model.layers[0]
    w = np.asarray(lp.weights)
    w3 = w if w.ndim == 3 else w[:, :, None]
    new = w3.copy()
    new[:, inputs, :] *= -1
    old_words = synapse_words(w3.tolist(), lp.weight_bits, lp.lanes)
    new_words = synapse_words(new.tolist(), lp.weight_bits, lp.lanes)
    writes = [[0, a, nw] for a, (ow, nw) in enumerate(zip(old_words, new_words)) if ow != nw]
    layer = dataclasses.replace(lp, weights=new if w.ndim == 3 else new[:, :, 0])
    return writes, dataclasses.replace(model, layers=(layer,) + tuple(model.layers[1:]))


def test_board_protocol_errors(tmp_path, digits_artifact):
    model = GoldenModel.from_artifact(digits_artifact)
    ds = load_dataset("digits")
    xs, seeds = ds.x_test[:200], sample_seeds(200)
    gold = model.run(xs, seeds)
    # Sample 6 is sent with sample 7 right behind it: take the one with the latest decision
    # so the inference still runs when the second header arrives.
    order = list(range(len(seeds)))
    slow = max(range(20, 200), key=lambda i: int(gold.step[i]))
    order[6], order[slow] = order[slow], order[6]
    # The synapse writes must change the answers the last samples get.
    writes, rewritten = _flipped_rows(model, list(range(24, 40)))
    new_gold = rewritten.run(xs, seeds)
    changed = [i for i in range(12, 200) if i != slow and (new_gold.cls[i], new_gold.step[i]) != (gold.cls[i], gold.step[i])]
    assert len(changed) >= 2
    order = order[:10] + changed[:2]
    samples = [[int(seeds[i]), xs[i].tolist()] for i in order]

    core = BoardTop("icebreaker", model).elaborate(None)
    out, _ = simulate_board(core, "protocol_errors", {"samples": samples, "writes": writes}, build_dir=tmp_path)
    seen = out["seen"]
    assert seen["crc"] == p.E_CRC
    assert seen["truncated"] == p.E_TIMEOUT
    assert seen["oversize"] == p.E_LENGTH
    assert seen["unknown_type"] == p.E_TYPE
    assert sorted(seen["busy"], key=str) == sorted([p.E_BUSY, f"0x{p.T_RESULT:02x}"], key=str)
    assert seen["bad_address"] == p.E_ADDRESS
    assert out["framing_errors"] == 0
    answers = out["answers"]
    assert len(answers) == len(order)
    for k, (i, answer) in enumerate(zip(order, answers)):
        if k in (0, 2, 7):                   # bad checksum, truncated, refused as busy
            assert answer is None
            continue
        g = new_gold if k >= 10 else gold
        want, got = _expect(g, i, answer)
        assert got == want, f"answer {k} (test sample {i})"
