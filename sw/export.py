"""Export a trained GLM first-to-spike layer as the integer hardware model (docs/artifact.md).

The float layer (:class:`~spinaps.sw.glm.TorchGlmLayer`) already uses the hardware's integer
traces, odd integer weights and saturated potentials, so the export only has to express
its real-valued parts in fixed point, with ``u_scale`` the value of one potential LSB:

* ``gamma_j / u_scale`` -> the integer ``gamma[j]``;
* ``alpha_j / u_scale`` -> ``scale[j] / 2**scale_shift``;
* ``sigmoid(u * u_scale)`` -> the 16-bit table.

The integer potential ``gamma[j] + ((scale[j] * acc) >> scale_shift)`` then equals the float
potential divided by ``u_scale`` to within about one LSB. This module only builds the
manifest and the arrays; :func:`spinaps.sw.artifact.save` validates and writes them.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from spinaps import contract
from spinaps.contract import CONTRACT_VERSION, sigmoid_table, splitmix32_seeds

from .. import __version__
from .artifact import FORMAT, FORMAT_VERSION
from .checks import prefixed
from .datasets import Dataset
from .golden import GlmLayerParams, GoldenModel
from .lanes import DEFAULT_ENCODER_LANES, default_lanes
from .train import TrainedGlm

__all__ = ["export_glm", "glm_layer_params", "golden_to_artifact", "dataset_record",
           "fixed_point_scales", "split_seeds", "encoder_fields"]


def _header() -> dict:
    """The manifest's first fields: format, versions and the writer (docs/artifact.md)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "contract_version": CONTRACT_VERSION, "created_by": f"spinaps {__version__}"}


def fixed_point_scales(ratio: np.ndarray, scale_bits: int) -> tuple[np.ndarray, int]:
    """Per-neuron multipliers sharing one shift: ``ratio[j] ~= scale[j] / 2**shift``.

    The shift is the largest in 0..31 that keeps every ``scale[j] <= 2**scale_bits - 1``,
    which gives the largest ratio the full ``scale_bits`` of precision.

    Parameters
    ----------
    ratio : numpy.ndarray
        Positive reals, one per neuron (``alpha_j / u_scale``).
    scale_bits : int
        Width of ``scale[j]``.

    Returns
    -------
    scale : numpy.ndarray
        ``int64`` multipliers in ``0 .. 2**scale_bits - 1``.
    shift : int
        The common right shift.

    Raises
    ------
    ValueError
        If even ``shift = 0`` cannot represent the largest ratio.
    """
    top = contract.unsigned_max(scale_bits)
    largest = float(np.max(ratio))
    if not math.isfinite(largest) or largest <= 0:
        raise ValueError(f"weight scales must be finite and positive (largest alpha/u_scale = {largest})")
    if round(largest) > top:
        raise ValueError(
            f"alpha/u_scale = {largest:.1f} needs more than scale_bits = {scale_bits} bits; "
            "raise scale_bits or u_bits"
        )
    shifts = contract.RANGES["scale_shift"]
    shift = max(s for s in range(shifts.lo, shifts.hi + 1) if round(largest * 2**s) <= top)
    return np.rint(np.asarray(ratio) * 2.0**shift).astype(np.int64), shift


def glm_layer_params(layer, basis_int, basis_bits: int, *, lanes: int, u_bits: int, scale_bits: int,
                     base_seeds: np.ndarray):
    """The integer :class:`~spinaps.sw.golden.GlmLayerParams` of a float GLM layer
    (:class:`~spinaps.sw.glm.TorchGlmLayer`).

    ``u_scale = u_range / 2**(U-1)`` is the value of one potential LSB; ``gamma / u_scale``
    and ``alpha / u_scale`` become the integer bias and the fixed-point per-neuron scale,
    ``sigmoid(u * u_scale)`` the 16-bit table (module docstring).
    """
    lo, hi = contract.potential_bounds(u_bits)
    u_scale = layer.u_range / -lo                    # one LSB: u_range maps onto 2^(U-1)
    alpha = layer.alpha.detach().double().numpy()
    gamma = layer.gamma.detach().double().numpy()
    scale, scale_shift = fixed_point_scales(alpha / u_scale, scale_bits)
    # The hardware floors (scale * acc) >> shift, which loses half an LSB on average; adding
    # it to the bias centres the integer potential on the float one.
    gamma_int = np.clip(np.rint(gamma / u_scale + 0.5), lo, hi).astype(np.int64)
    return GlmLayerParams(
        weights=layer.weight_codes().astype(np.int16), basis=np.asarray(basis_int).astype(np.int16),
        gamma=gamma_int.astype(np.int32), scale=scale.astype(np.int32), scale_shift=int(scale_shift),
        u_bits=u_bits, sigmoid=sigmoid_table(u_bits, u_scale).astype(np.int32),
        base_seeds=np.asarray(base_seeds, dtype=np.uint32), weight_bits=layer.weight_bits,
        basis_bits=basis_bits, scale_bits=scale_bits, u_scale=float(u_scale),
    )


def export_glm(
    trained: TrainedGlm,
    dataset: Dataset,
    *,
    encoder_lanes: int = DEFAULT_ENCODER_LANES,
    lanes: int | None = None,
    u_bits: int = 8,
    scale_bits: int = 8,
    seed: int = 0x5A1A,
    encoder: str = "bernoulli",
) -> tuple[dict, dict[str, np.ndarray]]:
    """Build the artifact manifest and integer arrays of a trained GLM layer.

    Parameters
    ----------
    trained : TrainedGlm
        Output of :func:`spinaps.sw.train.train_glm` (quantized weights; a full-precision
        model is refused, its float accuracy would not describe the integer model).
    dataset : Dataset
        The data set it was trained on (checked by hash).
    encoder_lanes : int
        Encoder lanes (Bernoulli: generators), 1..64 and ``<= n_in``.
    lanes : int or None
        Neuron lanes ``P``, 1..``n_out``; ``None`` means :func:`default_lanes`.
    u_bits : int
        Width ``U`` of the potential, 4..12. The model's saturation range ``u_range`` is
        mapped onto it: ``u_scale = u_range / 2**(U-1)``.
    scale_bits : int
        Width of the per-neuron multipliers, 1..16.
    seed : int
        Derives the generator base seeds (:func:`splitmix32_seeds`): encoder bank first,
        then the neuron bank (:func:`split_seeds`).
    encoder : str
        The encoder, one of :data:`spinaps.contract.ENCODER_TYPES` (docs/semantics.md 3):
        ``"bernoulli"`` (the default) or ``"deterministic"`` (no draws, no
        ``encoder.base_seeds``; the neuron bank's seeds are the same as with ``"bernoulli"``).

    Returns
    -------
    manifest : dict
        JSON-compatible manifest; ``accuracy`` has ``"float"`` (and ``"ann"`` when
        trained), the caller adds ``"golden"``.
    arrays : dict of str to numpy.ndarray
        ``encoder.base_seeds`` (Bernoulli encoder only) and ``layer0.*`` with the dtypes and
        shapes of docs/artifact.md.

    Raises
    ------
    ValueError
        On a hardware option out of range, a full-precision model, a data set that is not
        the training one, or scales that do not fit ``scale_bits``.
    """
    model, config = trained.model, trained.config
    n_in, n_out = model.n_in, model.n_out
    if config.full_precision:
        raise ValueError(
            "export_glm: this model was trained in full precision (a comparison mode); "
            "train with full_precision=False to export a hardware model"
        )
    if dataset.sha256 != trained.dataset_sha256:
        raise ValueError(
            f"export_glm: data set {dataset.name!r} (sha256 {dataset.sha256[:12]}...) is not "
            f"the one the model was trained on ({trained.dataset_name!r}, "
            f"sha256 {trained.dataset_sha256[:12]}...)"
        )
    lanes = default_lanes(n_out) if lanes is None else lanes
    with prefixed("export_glm: "):
        contract.check_encoder_lanes(n_in, encoder_lanes, field="encoder_lanes")
        contract.check_choice("encoder", encoder, contract.ENCODER_TYPES)
        contract.check_lanes(n_out, lanes)
        contract.check("u_bits", u_bits)
        contract.check("scale_bits", scale_bits)

    encoder_seeds, neuron_seeds = split_seeds(seed, encoder_lanes, lanes)
    params = glm_layer_params(model, trained.basis_int, config.basis_bits, lanes=lanes, u_bits=u_bits,
                              scale_bits=scale_bits, base_seeds=neuron_seeds)
    golden = GoldenModel(t_max=config.t_max, layers=(params,), frames=dataset.frames,
                         **encoder_fields(encoder, encoder_seeds))
    evaluation = trained.test_eval
    accuracy = {"float": evaluation.accuracy}
    if trained.ann_accuracy is not None:
        accuracy["ann"] = trained.ann_accuracy
    training = {
        "config": dataclasses.asdict(config),
        "train_seconds": round(trained.train_seconds, 3),
        "final_loss": trained.loss_history[-1] if trained.loss_history else None,
        "float_accuracy_by_step": evaluation.accuracy_by_step,
        "float_mean_step": evaluation.mean_step,
        "float_decided": evaluation.decided,
        "float_expected_accuracy": evaluation.expected_accuracy,
        "basis_float": trained.basis_float.tolist(),
        "basis_scale": trained.basis_scale,
        "alpha": model.alpha.detach().double().numpy().tolist(),
        "gamma": model.gamma.detach().double().numpy().tolist(),
        "export_seed": seed,
    }
    return golden_to_artifact(golden, dataset=dataset_record(dataset), accuracy=accuracy,
                              training=training)


def split_seeds(seed: int, encoder_lanes: int, neuron_lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """The base seeds of the encoder bank and of an output GLM layer's neuron bank, derived
    from ``seed`` (:func:`splitmix32_seeds`, encoder first). The neuron bank's seeds do not
    depend on the encoder type: a deterministic encoder just leaves its share unused."""
    seeds = splitmix32_seeds(seed, encoder_lanes + neuron_lanes)
    return seeds[:encoder_lanes], seeds[encoder_lanes:]


def encoder_fields(encoder: str, base_seeds: np.ndarray) -> dict:
    """The :class:`~spinaps.sw.golden.GoldenModel` encoder fields of an ``encoder`` type
    (:data:`spinaps.contract.ENCODER_TYPES`) with ``len(base_seeds)`` lanes: the seeds for
    the Bernoulli encoder, the lane count alone for one that draws nothing."""
    contract.check_choice("encoder", encoder, contract.ENCODER_TYPES)
    if contract.encoder_draws(encoder):
        return {"encoder_type": encoder, "encoder_base_seeds": np.asarray(base_seeds)}
    return {"encoder_type": encoder, "encoder_lanes": len(base_seeds)}


def dataset_record(dataset: Dataset) -> dict:
    """The manifest's ``dataset`` record: name, hash and split sizes of a data set, and its
    ``scaling`` when it has one (your own data; docs/artifact.md)."""
    record = {"name": dataset.name, "sha256": dataset.sha256, "n_train": dataset.n_train,
              "n_test": dataset.n_test}
    if getattr(dataset, "scaling", None) is not None:
        record["scaling"] = dataset.scaling
    return record


def golden_to_artifact(golden, *, dataset: dict, accuracy: dict | None = None,
                      training: dict | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Manifest and arrays of any integer network (a :class:`~spinaps.sw.golden.GoldenModel`).

    The path for networks built by the LIF, hybrid and soft-LIF trainers: they produce the
    integer model directly, and this writes exactly what the golden model runs. Save the
    result with :func:`spinaps.sw.artifact.save` (which validates it and writes atomically).

    Parameters
    ----------
    golden : spinaps.sw.golden.GoldenModel
        Encoder (type, lanes, seeds), layers (LIF and an optional GLM output layer),
        decision, frames.
    dataset : dict
        ``name``, ``sha256``, ``n_train``, ``n_test`` of the training data set.
    accuracy : dict, optional
        Named accuracies measured at export (``float``, ``ann``, ``golden``, ...).
    training : dict, optional
        Free-form record of the training configuration.
    """
    layers, arrays = [], {}
    if contract.encoder_draws(golden.encoder_type):               # docs/artifact.md: Bernoulli only
        arrays["encoder.base_seeds"] = np.asarray(golden.encoder_base_seeds, dtype=np.uint32)
    for index, lp in enumerate(golden.layers):
        key = f"layer{index}."
        if lp.kind == "lif":
            layers.append({"type": "lif", "n_in": lp.n_in, "n_out": lp.n_out, "weight_bits": int(lp.weight_bits),
                           "v_bits": int(lp.v_bits), "leak_shift": int(lp.leak_shift), "reset": lp.reset,
                           "refractory": int(lp.refractory), "lanes": int(lp.lanes)})
            arrays[key + "weights"] = np.asarray(lp.weights).astype(np.int16)
            arrays[key + "threshold"] = np.asarray(lp.threshold).astype(np.int32)
            arrays[key + "bias"] = np.asarray(lp.bias).astype(np.int32)
        else:
            k, tau = np.asarray(lp.basis).shape
            layers.append({"type": "glm", "n_in": lp.n_in, "n_out": lp.n_out, "weight_bits": int(lp.weight_bits),
                           "basis": int(k), "tau": int(tau), "basis_bits": int(lp.basis_bits),
                           "u_bits": int(lp.u_bits), "scale_bits": int(lp.scale_bits),
                           "scale_shift": int(lp.scale_shift), "u_scale": float(lp.u_scale), "lanes": int(lp.lanes)})
            arrays[key + "weights"] = np.asarray(lp.weights).astype(np.int16)
            arrays[key + "basis"] = np.asarray(lp.basis).astype(np.int16)
            arrays[key + "gamma"] = np.asarray(lp.gamma).astype(np.int32)
            arrays[key + "scale"] = np.asarray(lp.scale).astype(np.int32)
            arrays[key + "sigmoid"] = np.asarray(lp.sigmoid).astype(np.int32)
            arrays[key + "base_seeds"] = np.asarray(lp.base_seeds, dtype=np.uint32)
    manifest = {
        **_header(),
        "dataset": dict(dataset),
        "t_max": int(golden.t_max),
        "decision": golden.decision,
        "encoder": {"type": golden.encoder_type, "n_inputs": int(golden.n_in),
                    "lanes": int(golden.encoder_lanes), "frames": int(golden.frames)},
        "layers": layers,
        "accuracy": dict(accuracy or {}),
    }
    if training is not None:
        manifest["training"] = training
    return manifest, arrays
