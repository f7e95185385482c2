"""dlbook: the small helper package behind *Deep Learning with PyTorch*.

Nothing happens at import time: no seeding, no downloads, no global settings.
"""

from . import checkpoint
from .data import DigitsSplit, load_digits_split, make_loaders, standardize
from .device import available_devices, get_device
from .explore import Explorer, explore_activation_depth, explore_lr_activation
from .measure import function_and_slope, layer_grad_norms
from .models import ACTIVATIONS, get_activation, make_mlp
from .plot import plot_history
from .seed import set_seed
from .train import accuracy, evaluate, fit, train_one_epoch

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "DigitsSplit",
    "Explorer",
    "accuracy",
    "available_devices",
    "checkpoint",
    "evaluate",
    "explore_activation_depth",
    "explore_lr_activation",
    "fit",
    "function_and_slope",
    "get_activation",
    "get_device",
    "layer_grad_norms",
    "load_digits_split",
    "make_loaders",
    "make_mlp",
    "plot_history",
    "set_seed",
    "standardize",
    "train_one_epoch",
]
