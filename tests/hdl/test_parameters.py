"""Hardware parameters from the artifact are validated with messages naming the field."""

import dataclasses

import numpy as np
import pytest

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.first_to_spike import FirstToSpike
from spinaps.sim.models import random_glm_model
from spinaps.contract import splitmix32_seeds


def _with_lanes(model, lanes):
    layer = dataclasses.replace(model.output_layer, base_seeds=splitmix32_seeds(3, lanes) if lanes else np.zeros(0, np.uint32))
    return dataclasses.replace(model, layers=(layer,))


@pytest.mark.parametrize("lanes", [0, 6])
def test_lanes_zero_or_more_than_neurons(lanes):
    model = _with_lanes(random_glm_model(n_out=5), lanes)
    with pytest.raises(ValueError, match="lanes"):
        Accelerator(model)


def test_t_max_zero():
    model = dataclasses.replace(random_glm_model(), t_max=0)
    with pytest.raises(ValueError, match="t_max"):
        Accelerator(model)


def test_sigmoid_table_size_must_match_u_bits():
    model = random_glm_model()
    layer = dataclasses.replace(model.output_layer, sigmoid=model.output_layer.sigmoid[:-1])
    with pytest.raises(ValueError, match="sigmoid table"):
        Accelerator(dataclasses.replace(model, layers=(layer,)))


def test_unknown_memory_kind():
    with pytest.raises(ValueError, match="sram"):
        Accelerator(random_glm_model(), memory="flash")


def test_decision_unit_needs_two_classes():
    with pytest.raises(ValueError, match="n_out"):
        FirstToSpike(n_out=1, lanes=1, u_bits=8, t_max=4)
