"""Offline datasets as tensors, split and standardised, and DataLoaders."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)

from .seed import shifted

__all__ = ["DigitsSplit", "load_digits_split", "standardize", "make_loaders"]


@dataclass
class DigitsSplit:
    """The digits data split three ways, as float features and long labels.

    Shape: ``X_*`` is ``(N, 64)`` (or ``(N, 1, 8, 8)`` with ``as_images``),
    ``y_*`` is ``(N,)``. ``mean`` and ``std`` are the training split's
    statistics that were used to standardise every split (``None`` if the
    data were left raw).
    """

    X_train: Tensor
    y_train: Tensor
    X_val: Tensor
    y_val: Tensor
    X_test: Tensor
    y_test: Tensor
    mean: Tensor | None = None
    std: Tensor | None = None

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{name}={len(getattr(self, 'y_' + name))}"
            for name in ("train", "val", "test")
        )
        return f"DigitsSplit({sizes}, features={tuple(self.X_train.shape[1:])})"


def standardize(X_train: Tensor, *others: Tensor, eps: float = 1e-8):
    """Standardise every split with the mean and std of ``X_train`` alone.

    Chapter 3 writes this function by hand (section 3.1). Features constant
    in the training split (std below ``eps``) are only centred, not divided
    by ~0.

    Shape: ``X_train`` ``(N, ...)``; statistics are taken over dim 0.

    Returns:
        ``(X_train_std, *others_std, mean, std)``.

    Raises:
        ValueError: ``X_train`` holds NaN (fill or drop it first, as
            chapter 3 does): every mean and std would be NaN.

    Example:
        >>> Xtr, Xte, mean, std = standardize(torch.tensor([[0.0], [2.0]]),
        ...                                   torch.tensor([[4.0]]))
        >>> Xtr.flatten().tolist(), Xte.flatten().tolist()
        ([-1.0, 1.0], [3.0])
    """
    missing = X_train.isnan()
    if missing.any():
        features = missing.reshape(len(X_train), -1).any(dim=0).nonzero().flatten()
        raise ValueError(
            f"X_train holds {int(missing.sum())} NaN values (features "
            f"{features[:10].tolist()}): their mean and std would be NaN. Fill "
            "or drop them first, e.g. torch.where(X.isnan(), X.nanmean(dim=0), X)"
        )
    mean = X_train.mean(dim=0)
    std = X_train.std(dim=0, unbiased=False)
    std = torch.where(std < eps, torch.ones_like(std), std)
    return (*[(X - mean) / std for X in (X_train, *others)], mean, std)


def load_digits_split(
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    scale: bool = True,
    as_images: bool = False,
) -> DigitsSplit:
    """The 1,797 scikit-learn 8x8 digit images, split train / val / test.

    The split is stratified by class and fixed by ``seed``. With ``scale``,
    pixels are standardised with the training split's mean and std only.

    Args:
        val_size: fraction of all examples for validation.
        test_size: fraction of all examples for the final test.
        seed: seed of the split.
        scale: standardise features (fitted on the training split).
        as_images: return ``X_*`` shaped ``(N, 1, 8, 8)`` for CNNs.

    Example:
        >>> data = load_digits_split()
        >>> data
        DigitsSplit(train=1257, val=270, test=270, features=(64,))
        >>> data.X_train.dtype, data.y_train.dtype
        (torch.float32, torch.int64)
    """
    X, y = _digits_arrays()
    n = len(y)
    n_test, n_val = round(n * test_size), round(n * val_size)
    for name, size in (("val_size", n_val), ("test_size", n_test)):
        if size < 10:  # stratified: at least one example of each digit
            raise ValueError(
                f"{name} gives {size} of {n} examples, fewer than the 10 classes "
                f"a stratified split needs: use a fraction of at least {10 / n:.4f}"
            )
    rows = _stored_split(X, n_val, n_test, seed)
    if rows is None:
        rows = split_rows(y, n_val, n_test, seed)
    X_train, X_val, X_test = (X[r] for r in rows)
    y_train, y_val, y_test = (y[r] for r in rows)
    to_x = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    to_y = lambda a: torch.tensor(np.asarray(a), dtype=torch.long)  # noqa: E731
    Xs = [to_x(a) for a in (X_train, X_val, X_test)]
    mean = std = None
    if scale:
        *Xs, mean, std = standardize(*Xs)
    if as_images:
        Xs = [X.reshape(-1, 1, 8, 8) for X in Xs]
    return DigitsSplit(
        Xs[0], to_y(y_train), Xs[1], to_y(y_val), Xs[2], to_y(y_test), mean, std
    )


# Where scikit-learn keeps the digits (what sklearn.datasets.load_digits reads),
# and the default split's rows as scikit-learn draws them, stored so that a
# chapter need not import scikit-learn (about 1 s) for its usual split.
_DIGITS_CSV = ("datasets", "data", "digits.csv.gz")
SPLIT_FILE = Path(__file__).with_name("digits_split.npz")


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as ``load_digits(return_X_y=True)`` gives them, read
    from scikit-learn's own file without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the digits come with scikit-learn: pip install scikit-learn"
        )
    path = Path(spec.submodule_search_locations[0]).joinpath(*_DIGITS_CSV)
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def _fingerprint(X: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64)).hexdigest()


def split_rows(
    y: np.ndarray, n_val: int, n_test: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices ``(train, val, test)`` of scikit-learn's stratified split:
    test first, then validation from the rest, both with ``random_state=seed``."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    rest, test = train_test_split(rows, test_size=n_test, stratify=y, random_state=seed)
    train, val = train_test_split(
        rest, test_size=n_val, stratify=y[rest], random_state=seed
    )
    return train, val, test


def _stored_split(X: np.ndarray, n_val: int, n_test: int, seed: int):
    """The rows of ``split_rows`` from ``SPLIT_FILE`` when it holds this split of
    these very data (checked by fingerprint), else ``None``."""
    if not SPLIT_FILE.exists():
        return None
    with np.load(SPLIT_FILE) as stored:
        key = (int(stored["n_val"]), int(stored["n_test"]), int(stored["seed"]))
        same_data = str(stored["data_sha256"]) == _fingerprint(X)
        if key != (n_val, n_test, seed) or not same_data:
            return None
        return stored["train"], stored["val"], stored["test"]


def store_default_split(path: Path = SPLIT_FILE) -> Path:
    """Write the default split's rows (scikit-learn's, via ``split_rows``) to
    ``path``. Run it if scikit-learn's digits or its splitting ever change:
    ``python -c "from dlbook.data import store_default_split as s; s()"``."""
    defaults = inspect.signature(load_digits_split).parameters
    val_size, test_size, seed = (
        defaults[name].default for name in ("val_size", "test_size", "seed")
    )
    X, y = _digits_arrays()
    n_val, n_test = round(len(y) * val_size), round(len(y) * test_size)
    train, val, test = split_rows(y, n_val, n_test, seed)
    np.savez_compressed(
        path,
        train=train.astype(np.int16),
        val=val.astype(np.int16),
        test=test.astype(np.int16),
        n_val=n_val,
        n_test=n_test,
        seed=seed,
        data_sha256=_fingerprint(X),
    )
    return path


def _check_split(tensors, which: str) -> None:
    """TypeError naming what is wrong unless ``tensors`` is a tuple of tensors."""
    call = "call make_loaders((X_train, y_train), (X_val, y_val))"
    if not isinstance(tensors, (tuple, list)):
        raise TypeError(
            f"each split must be a tuple of tensors such as (X, y), got "
            f"{type(tensors).__name__} for {which}: {call}"
        )
    for j, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            fix = (
                f"pass each split as its own argument, not all in one tuple: {call}"
                if isinstance(t, (tuple, list))
                else "convert it first, e.g. torch.as_tensor(X)"
            )
            kind = f"{type(t).__module__}.{type(t).__name__}".removeprefix("builtins.")
            raise TypeError(f"{which}[{j}] is a {kind}, not a tensor: {fix}")


def make_loaders(
    train: tuple[Tensor, ...],
    *evals: tuple[Tensor, ...],
    batch_size: int = 64,
    seed: int = 0,
    eval_batch_size: int | None = None,
) -> list[DataLoader]:
    """Wrap tensors in DataLoaders: the first shuffled, the rest in order.

    Shuffling uses its own ``torch.Generator`` seeded with ``seed``, so the
    batch order is reproducible and independent of other random draws (like
    ``set_seed``, it adds ``DLBOOK_SEED_SHIFT`` when the tests set it).

    Args:
        train: ``(X, y)`` (or any tensors of equal length) for training.
        *evals: further ``(X, y)`` tuples, e.g. validation and test.
        batch_size: training batch size.
        seed: seed of the shuffling generator.
        eval_batch_size: batch size of the evaluation loaders (default: all
            at once up to 1024).

    Example:
        >>> X, y = torch.randn(10, 3), torch.arange(10)
        >>> train_loader, val_loader = make_loaders((X, y), (X, y), batch_size=4)
        >>> [len(b[0]) for b in train_loader]
        [4, 4, 2]
    """
    for i, tensors in enumerate((train, *evals)):
        _check_split(tensors, "train" if i == 0 else f"split {i + 1}")
    gen = torch.Generator().manual_seed(shifted(seed))
    train_set = TensorDataset(*train)
    # Each batch is one lookup, dataset[indices], instead of batch_size lookups
    # stacked together: the same batches in the same order (the sampler draws
    # the same permutation from ``gen``), at a quarter of the cost per epoch.
    order = BatchSampler(RandomSampler(train_set, generator=gen), batch_size, False)
    loaders = [DataLoader(train_set, sampler=order, batch_size=None, generator=gen)]
    for tensors in evals:
        size = eval_batch_size
        if size is None:  # all at once, up to 1024 (at least 1: an empty split)
            size = max(1, min(len(tensors[0]), 1024))
        eval_set = TensorDataset(*tensors)
        batches = BatchSampler(SequentialSampler(eval_set), size, False)
        loaders.append(DataLoader(eval_set, sampler=batches, batch_size=None))
    return loaders
