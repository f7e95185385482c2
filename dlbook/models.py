"""Small models the chapters and explorers share: MLPs with a named activation."""

from __future__ import annotations

from torch import nn

from ._checks import check_positive_int

__all__ = ["ACTIVATIONS", "get_activation", "make_mlp"]

#: Activation names the book uses, mapped to their ``torch.nn`` modules.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


def get_activation(name: str) -> nn.Module:
    """A fresh activation module by name.

    Example:
        >>> get_activation("tanh")
        Tanh()
    """
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None


def make_mlp(
    in_features: int,
    hidden: int,
    out_features: int,
    depth: int = 1,
    activation: str = "relu",
    dropout: float = 0.0,
) -> nn.Sequential:
    """A multi-layer perceptron: ``depth`` hidden layers of width ``hidden``.

    Each hidden layer is ``Linear -> activation`` (``-> Dropout`` if
    ``dropout > 0``); the output layer is a bare ``Linear`` producing logits
    or regression values.

    Shape: input ``(N, in_features)``, output ``(N, out_features)``.

    Example:
        >>> make_mlp(64, 32, 10, depth=2, activation="tanh")
        Sequential(
          (0): Linear(in_features=64, out_features=32, bias=True)
          (1): Tanh()
          (2): Linear(in_features=32, out_features=32, bias=True)
          (3): Tanh()
          (4): Linear(in_features=32, out_features=10, bias=True)
        )
    """
    for name, value in (
        ("in_features", in_features),
        ("hidden", hidden),
        ("out_features", out_features),
    ):
        check_positive_int(name, value)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth must be an int >= 0, got {depth!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    get_activation(activation)  # validate the name before building anything
    layers: list[nn.Module] = []
    width = in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), get_activation(activation)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)
