"""Weight quantizer, basis table and the exported integer model (docs/artifact.md)."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from spinaps.sw.basis import quantize_basis, raised_cosine_basis
from spinaps.sw.datasets import _sha256, load_dataset
from spinaps.contract import CONTRACT_VERSION, sigmoid_table, splitmix32_seeds
from spinaps.sw.export import export_glm, fixed_point_scales
from spinaps.sw.glm import TorchGlmLayer, odd_levels, ste_nearest_odd_level
from spinaps.sw.train import GlmTrainConfig, evaluate_float, train_glm

# --- straight-through weight quantizer ----------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_ste_levels_are_exactly_the_odd_integers(bits):
    top = 2**bits - 1
    w = torch.linspace(-(2**bits) - 3, 2**bits + 3, 20001, dtype=torch.float64)
    q = ste_nearest_odd_level(w, bits)
    expected = [2 * c - top for c in range(2**bits)]  # docs/semantics.md 5.1
    assert sorted(set(q.tolist())) == expected
    assert odd_levels(bits).tolist() == expected
    # Nearest odd integer inside the range, saturation outside it.
    inside = w.abs() < 2**bits
    assert ((q - w).abs()[inside] <= 1 + 1e-12).all()
    assert (q[w >= 2**bits] == top).all() and (q[w <= -(2**bits)] == -top).all()


def test_one_bit_is_sign():
    w = torch.tensor([-1.7, -0.2, -1e-9, 0.0, 1e-9, 0.3, 1.99])
    assert ste_nearest_odd_level(w, 1).tolist() == [-1, -1, -1, 1, 1, 1, 1]


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_ste_gradient_passes_straight_through(bits):
    w = torch.linspace(-(2**bits), 2**bits, 101, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(101, generator=torch.Generator().manual_seed(bits), dtype=torch.float64)
    (ste_nearest_odd_level(w, bits) * upstream).sum().backward()
    torch.testing.assert_close(w.grad, upstream)


def test_ste_rejects_unsupported_width():
    with pytest.raises(ValueError, match="weight_bits"):
        ste_nearest_odd_level(torch.zeros(3), 3)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_layer_weight_codes_are_hardware_codes(bits):
    layer = TorchGlmLayer(5, 3, np.ones((1, 1)), weight_bits=bits)
    with torch.no_grad():
        layer.weight.uniform_(-1, 1, generator=torch.Generator().manual_seed(0))
    codes = layer.weight_codes()
    assert codes.dtype == np.int64 and codes.shape == (3, 5, 1)
    assert (codes % 2 == 1).all() and (np.abs(codes) <= 2**bits - 1).all()
    # The forward pass uses exactly these integers: u = gamma + alpha * sum w c.
    x = torch.ones(1, 1, 5)
    expected = layer.gamma + layer.alpha * torch.tensor(codes.sum(axis=(1, 2)), dtype=torch.float32)
    torch.testing.assert_close(layer(x)[0, 0], expected.clamp(-8, 8).detach())


# --- basis functions ---------------------------------------------------------------------


def test_memoryless_basis_is_one():
    assert raised_cosine_basis(1, 1).tolist() == [[1.0]]
    A, scale = quantize_basis(raised_cosine_basis(1, 1), 1)
    assert A.tolist() == [[1]] and scale == 1.0


@pytest.mark.parametrize("K,tau", [(1, 4), (2, 4), (3, 8), (4, 8), (2, 2)])
def test_raised_cosine_shape_and_coverage(K, tau):
    A = raised_cosine_basis(K, tau)
    assert A.shape == (K, tau)
    assert (A >= 0).all() and np.allclose(A.max(axis=1), 1.0)
    assert (A.sum(axis=0) > 0).all()  # every lag, lag 0 included, is seen by some kernel
    assert A[0, 0] == 1.0  # the first kernel peaks on the current step


@pytest.mark.parametrize("bits", range(1, 9))
@pytest.mark.parametrize("K,tau", [(1, 1), (1, 8), (3, 8), (4, 8), (4, 5)])
def test_quantized_basis_rows_nonzero_and_in_range(K, tau, bits):
    A_float = raised_cosine_basis(K, tau)
    A, scale = quantize_basis(A_float, bits)
    assert A.shape == (K, tau) and np.issubdtype(A.dtype, np.integer)
    assert A.min() >= 0 and A.max() <= 2**bits - 1
    assert A.any(axis=1).all()
    assert np.abs(A * scale - A_float).max() <= max(scale / 2, 1.0) + 1e-12
    if bits >= 4:
        assert np.abs(A * scale - A_float).max() <= scale / 2 + 1e-12


def test_quantize_basis_keeps_a_tiny_row():
    A, _ = quantize_basis(np.array([[1.0, 0.5], [0.01, 0.02]]), 2)
    assert A.tolist() == [[3, 2], [0, 1]]


# --- training configuration --------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [("weight_bits", 3), ("tau", 9), ("n_basis", 5), ("n_basis", 3), ("basis_bits", 0), ("t_max", 256),
     ("epochs", 0), ("lr", -1.0), ("batch_size", 0), ("u_range", math.inf), ("gamma_init", -20.0)],
)
def test_config_errors_name_the_field(field, value):
    kwargs = {field: value}
    if (field, value) == ("n_basis", 3):
        kwargs["tau"] = 2  # more kernels than lags
    with pytest.raises(ValueError, match=f"GlmTrainConfig.{field}"):
        GlmTrainConfig(**kwargs)


# --- export -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    """A 400/120 subset of digits (with its own hash): enough to train, fast to test."""
    full = load_dataset("digits")
    parts = full.x_train[:400], full.y_train[:400], full.x_test[:120], full.y_test[:120]
    return dataclasses.replace(full, x_train=parts[0], y_train=parts[1], x_test=parts[2], y_test=parts[3],
                               sha256=_sha256(*parts))


@pytest.fixture(scope="module")
def trained(digits):
    config = GlmTrainConfig(weight_bits=2, n_basis=2, tau=4, basis_bits=3, epochs=2, eval_repeats=1,
                            ann_baseline=False)
    return train_glm(digits, config, progress=False)


def test_training_is_deterministic(digits):
    config = GlmTrainConfig(epochs=1, eval_repeats=1, ann_baseline=False, seed=3)
    a, b = (train_glm(digits, config, progress=False) for _ in range(2))
    assert torch.equal(a.model.weight, b.model.weight) and torch.equal(a.model.gamma, b.model.gamma)
    assert a.test_eval == b.test_eval


def test_export_follows_the_artifact_schema(trained, digits):
    manifest, arrays = export_glm(trained, digits, encoder_lanes=16, lanes=4, u_bits=8, scale_bits=8, seed=7)
    json.dumps(manifest)  # JSON-compatible
    assert manifest["format"] == "spinaps-artifact" and manifest["format_version"] == 2
    assert manifest["contract_version"] == CONTRACT_VERSION and manifest["decision"] == "first_to_spike"
    assert manifest["dataset"] == {"name": "digits", "sha256": digits.sha256, "n_train": 400, "n_test": 120}
    assert manifest["t_max"] == 16
    assert manifest["encoder"] == {"type": "bernoulli", "n_inputs": 64, "lanes": 16, "frames": 1}
    (layer,) = manifest["layers"]
    assert {k: layer[k] for k in ("type", "n_in", "n_out", "weight_bits", "basis", "tau", "basis_bits",
                                   "u_bits", "scale_bits", "lanes")} == {
        "type": "glm", "n_in": 64, "n_out": 10, "weight_bits": 2, "basis": 2, "tau": 4, "basis_bits": 3,
        "u_bits": 8, "scale_bits": 8, "lanes": 4}
    assert 0 <= layer["scale_shift"] <= 31 and isinstance(layer["scale_shift"], int)
    assert math.isfinite(layer["u_scale"]) and layer["u_scale"] > 0
    assert set(manifest["accuracy"]) == {"float"} and 0 <= manifest["accuracy"]["float"] <= 1

    spec = {
        "encoder.base_seeds": (np.uint32, (16,)),
        "layer0.weights": (np.int16, (10, 64, 2)),
        "layer0.basis": (np.int16, (2, 4)),
        "layer0.gamma": (np.int32, (10,)),
        "layer0.scale": (np.int32, (10,)),
        "layer0.sigmoid": (np.int32, (256,)),
        "layer0.base_seeds": (np.uint32, (4,)),
    }
    assert set(arrays) == set(spec)
    for key, (dtype, shape) in spec.items():
        assert arrays[key].dtype == dtype and arrays[key].shape == shape, key
    w = arrays["layer0.weights"]
    assert (w % 2 == 1).all() and (np.abs(w) <= 3).all()
    A = arrays["layer0.basis"]
    assert A.min() >= 0 and A.max() < 2**3 and A.any(axis=1).all()
    assert arrays["layer0.gamma"].min() >= -128 and arrays["layer0.gamma"].max() <= 127
    assert arrays["layer0.scale"].min() >= 0 and arrays["layer0.scale"].max() <= 255
    sig = arrays["layer0.sigmoid"]
    assert sig.min() >= 0 and sig.max() <= 65535 and (np.diff(sig) >= 0).all()
    seeds = np.concatenate([arrays["encoder.base_seeds"], arrays["layer0.base_seeds"]])
    assert (seeds & 0xFFFF).all() and len(set(seeds.tolist())) == len(seeds)


def test_export_integers_represent_the_float_model(trained, digits):
    manifest, arrays = export_glm(trained, digits, u_bits=10, scale_bits=12)
    layer, model = manifest["layers"][0], trained.model
    u_scale, shift = layer["u_scale"], layer["scale_shift"]
    assert u_scale == model.u_range / 2**9
    np.testing.assert_array_equal(arrays["layer0.weights"], model.weight_codes())
    np.testing.assert_array_equal(arrays["layer0.basis"], trained.basis_int)
    alpha = model.alpha.detach().double().numpy()
    np.testing.assert_allclose(arrays["layer0.scale"] / 2**shift, alpha / u_scale, atol=0.5 / 2**shift)
    # Largest shift: the largest multiplier uses the top bit of scale_bits.
    assert arrays["layer0.scale"].max() >= 2**11 or shift == 31
    gamma = model.gamma.detach().double().numpy()
    # Bias in LSBs, plus the half LSB that compensates the floor of the >> in the hardware.
    np.testing.assert_allclose(arrays["layer0.gamma"], gamma / u_scale + 0.5, atol=0.5 + 1e-9)
    u = np.arange(-512, 512) * u_scale
    expected_table = np.minimum(65535, np.round(65536 / (1 + np.exp(-u))))
    np.testing.assert_array_equal(arrays["layer0.sigmoid"], expected_table)


def test_export_is_deterministic_and_seed_dependent(trained, digits):
    a = export_glm(trained, digits, seed=1)[1]
    b = export_glm(trained, digits, seed=1)[1]
    c = export_glm(trained, digits, seed=2)[1]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["encoder.base_seeds"], c["encoder.base_seeds"])


@pytest.mark.parametrize(
    "kwargs,field",
    [({"encoder_lanes": 0}, "encoder_lanes"), ({"encoder_lanes": 65}, "encoder_lanes"),
     ({"lanes": 11}, "lanes"), ({"u_bits": 13}, "u_bits"), ({"scale_bits": 0}, "scale_bits")],
)
def test_export_rejects_out_of_range_options(trained, digits, kwargs, field):
    with pytest.raises(ValueError, match=field):
        export_glm(trained, digits, **kwargs)


def test_export_rejects_another_dataset(trained, digits):
    other = dataclasses.replace(digits, sha256="0" * 64)
    with pytest.raises(ValueError, match="not the one the model was trained on"):
        export_glm(trained, other)


def test_fixed_point_helpers():
    scale, shift = fixed_point_scales(np.array([0.3, 1.7, 0.01]), 8)
    assert shift == 7 and scale.tolist() == [38, 218, 1]  # 1.7 * 2**7 = 217.6 <= 255 < 1.7 * 2**8
    with pytest.raises(ValueError, match="scale_bits"):
        fixed_point_scales(np.array([300.0]), 8)
    table = sigmoid_table(4, 1.0)
    assert table.tolist()[8] == 32768 and table.tolist()[0] == round(65536 / (1 + math.exp(8)))
    seeds = splitmix32_seeds(0, 100)
    assert seeds.dtype == np.uint32 and (seeds & 0xFFFF).all() and len(set(seeds.tolist())) == 100


def test_evaluate_float_follows_the_decision_rule():
    """Saturated neurons make the stochastic readout deterministic enough to check the rules."""
    layer = TorchGlmLayer(4, 3, np.ones((1, 1)), u_range=40.0)
    x = np.full((50, 4), 255, dtype=np.uint8)
    with torch.no_grad():
        layer.gamma.copy_(torch.tensor([-40.0, 40.0, 40.0]))  # 1 and 2 spike and tie: lowest index wins
    result = evaluate_float(layer, x, np.ones(50, dtype=np.int64), t_max=5, seed=0)
    assert result.accuracy_by_step == [1.0] * 5 and result.accuracy == 1.0
    assert result.mean_step == 1.0 and result.decided == 1.0
    assert result.expected_accuracy == pytest.approx(1.0)
    with torch.no_grad():
        layer.gamma.copy_(torch.tensor([-40.0, -40.0, -39.0]))  # nobody spikes: argmax u(T_max)
    result = evaluate_float(layer, x, np.full(50, 2, dtype=np.int64), t_max=3, seed=0, repeats=2)
    assert result.accuracy_by_step == [1.0] * 3
    assert result.mean_step == 3.0 and result.decided == 0.0
    assert result.expected_accuracy == pytest.approx(1.0)


def test_expected_accuracy_agrees_with_sampling(trained, digits):
    result = evaluate_float(trained.model, digits.x_test, digits.y_test, t_max=16, seed=1, repeats=4)
    # 480 sampled inferences: a standard error of about 0.02.
    assert abs(result.accuracy - result.expected_accuracy) < 0.07
    assert result.accuracy_by_step[-1] == result.accuracy


def test_export_with_the_deterministic_encoder(trained, digits):
    """``encoder="deterministic"``: no encoder seeds, the same neuron seeds and integers as the
    Bernoulli export, and a valid artifact whose golden model ignores the sample seeds."""
    from spinaps.sw import artifact
    from spinaps.sw.golden import GoldenModel

    bern_manifest, bern = export_glm(trained, digits, encoder_lanes=16, lanes=4, seed=7)
    manifest, arrays = export_glm(trained, digits, encoder_lanes=16, lanes=4, seed=7, encoder="deterministic")
    assert manifest["encoder"] == {"type": "deterministic", "n_inputs": 64, "lanes": 16, "frames": 1}
    assert set(arrays) == set(bern) - {"encoder.base_seeds"}
    assert all(np.array_equal(arrays[k], bern[k]) for k in arrays)
    assert manifest["layers"] == bern_manifest["layers"]
    model = GoldenModel.from_artifact(artifact.from_memory(manifest, arrays))
    x = digits.x_test[:30]
    # The encoder's spikes do not depend on the seeds (only the GLM neurons' draws do).
    from spinaps.sw import golden

    a, b = (golden.encode(model.encoder_type, x, s, model.encoder_base_seeds, model.t_max)
            for s in (np.arange(30), np.arange(30)[::-1].copy()))
    assert bool((a == b).all())
    with pytest.raises(ValueError, match="encoder = 'poisson' is not one of"):
        export_glm(trained, digits, encoder="poisson")
