import subprocess
import sys

import numpy as np
import pytest
import torch

from dlbook import data as data_module
from dlbook import load_digits_split, make_loaders, standardize


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


def test_split_sizes_cover_the_data_once(digits):
    sizes = [len(digits.y_train), len(digits.y_val), len(digits.y_test)]
    assert sizes == [1257, 270, 270] and sum(sizes) == 1797


def test_splits_are_disjoint():
    raw = load_digits_split(scale=False)
    rows = [
        {tuple(r.tolist()) for r in X} for X in (raw.X_train, raw.X_val, raw.X_test)
    ]
    # digits holds no duplicate images (chapter 3 counts them), so no image may
    # appear in two splits
    assert sum(len(r) for r in rows) == 1797
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])


def test_split_is_stratified(digits):
    counts = torch.bincount(digits.y_test, minlength=10)
    assert counts.min() >= 26 and counts.max() <= 28


def test_standardisation_uses_training_statistics_only(digits):
    mean = digits.X_train.mean(0)
    torch.testing.assert_close(mean, torch.zeros(64), atol=1e-5, rtol=0)
    raw = load_digits_split(scale=False)
    torch.testing.assert_close(raw.X_train.mean(0), digits.mean)
    expected = (raw.X_test - digits.mean) / digits.std
    torch.testing.assert_close(digits.X_test, expected)


def test_constant_features_are_not_divided_by_zero():
    X = torch.tensor([[1.0, 5.0], [3.0, 5.0]])
    Xs, mean, std = standardize(X)
    assert torch.isfinite(Xs).all() and std[1] == 1.0


def test_as_images_shape():
    data = load_digits_split(as_images=True)
    assert data.X_train.shape == (1257, 1, 8, 8)


def test_stored_default_split_is_scikit_learns():
    # the rows stored in dlbook/digits_split.npz are what scikit-learn draws now:
    # if its digits or its splitting change, this fails (and the loader, seeing
    # other data, would fall back to scikit-learn): re-run store_default_split
    X, y = data_module._digits_arrays()
    stored = data_module._stored_split(X, 270, 270, 0)
    assert stored is not None, "digits_split.npz is missing or for other data"
    for mine, theirs in zip(stored, data_module.split_rows(y, 270, 270, 0)):
        np.testing.assert_array_equal(mine, theirs)


def test_default_split_loads_without_scikit_learn():
    code = (
        "import sys; from dlbook import load_digits_split; load_digits_split(); "
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_stored_split_is_ignored_for_other_data_or_sizes():
    X, _ = data_module._digits_arrays()
    assert data_module._stored_split(X[::-1], 270, 270, 0) is None
    assert data_module._stored_split(X, 359, 270, 0) is None
    assert data_module._stored_split(X, 270, 270, 1) is None


def test_split_depends_on_seed():
    a, b = load_digits_split(seed=0), load_digits_split(seed=1)
    assert not torch.equal(a.y_train, b.y_train)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"val_size": 0}, "val_size gives 0 of 1797 examples"),
        ({"test_size": 1.2}, "test_size=2156 should be"),  # scikit-learn's message
        ({"val_size": 0.5, "test_size": 0.5}, "train_size = 1 should be"),
    ],
)
def test_bad_fractions_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_digits_split(**kwargs)


def test_loaders_shuffle_reproducibly():
    X, y = torch.arange(20.0).unsqueeze(1), torch.arange(20)
    first = [b[1].tolist() for b in make_loaders((X, y), batch_size=5, seed=3)[0]]
    again = [b[1].tolist() for b in make_loaders((X, y), batch_size=5, seed=3)[0]]
    other = [b[1].tolist() for b in make_loaders((X, y), batch_size=5, seed=4)[0]]
    assert first == again != other
    assert sorted(sum(first, [])) == list(range(20))


def test_eval_loaders_keep_order():
    X, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    _, val = make_loaders((X, y), (X, y), batch_size=3, eval_batch_size=4)
    assert [b[1].tolist() for b in val] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize("batch_size", [0, -2, 1.5, True])
def test_bad_batch_size(batch_size):  # DataLoader's own message
    X = torch.zeros(4, 1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        make_loaders((X, X), batch_size=batch_size)


def test_make_loaders_wants_splits_as_tuples():
    X, y = torch.zeros(6, 2), torch.zeros(6)
    with pytest.raises(TypeError, match=r"tuple of tensors such as \(X, y\)"):
        make_loaders(X, y)  # forgot the parentheses around (X, y)


def test_an_empty_evaluation_split_gives_an_empty_loader():
    X, y = torch.zeros(6, 2), torch.zeros(6)
    assert list(make_loaders((X, y), (X[:0], y[:0]))[1]) == []


def test_make_loaders_batches_equal_a_plain_shuffled_dataloader() -> None:
    """One lookup per batch gives the batches a DataLoader(shuffle=True) with the
    same seeded generator gives, epoch after epoch: the chapters' numbers do not
    depend on the faster loader."""
    from torch.utils.data import DataLoader, TensorDataset

    X, y = torch.randn(101, 3), torch.arange(101)
    train, val = make_loaders((X, y), (X[:30], y[:30]), batch_size=16, seed=5)
    gen = torch.Generator().manual_seed(5)
    plain = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, generator=gen)
    for _ in range(3):
        for (xa, ya), (xb, yb) in zip(train, plain, strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
    ((xv, yv),) = list(val)
    assert torch.equal(xv, X[:30]) and torch.equal(yv, y[:30])


def test_missing_scikit_learn_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(data_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install scikit-learn"):
        load_digits_split()
