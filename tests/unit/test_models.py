import pytest
import torch
from torch import nn

from dlbook import ACTIVATIONS, get_activation, make_mlp


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_builds(name):
    assert isinstance(get_activation(name), nn.Module)


def test_unknown_activation_lists_the_choices():
    with pytest.raises(
        ValueError, match="unknown activation 'relu6'; choose one of: relu"
    ):
        get_activation("relu6")


def test_mlp_shapes_and_depth():
    model = make_mlp(64, 32, 10, depth=3, activation="gelu", dropout=0.1)
    assert model(torch.zeros(5, 64)).shape == (5, 10)
    assert sum(isinstance(m, nn.Linear) for m in model) == 4
    assert sum(isinstance(m, nn.Dropout) for m in model) == 3


def test_depth_zero_is_logistic_regression():
    model = make_mlp(4, 8, 2, depth=0)
    assert len(model) == 1 and isinstance(model[0], nn.Linear)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden": 0}, "hidden must be a positive int"),
        ({"in_features": True}, "in_features must be a positive int, got True"),
        ({"depth": -1}, "depth must be an int >= 0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"activation": "swish"}, "unknown activation 'swish'"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"in_features": 4, "hidden": 8, "out_features": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        make_mlp(**args)
