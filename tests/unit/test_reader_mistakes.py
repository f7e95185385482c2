"""The mistakes readers make from a notebook get errors that name them and the fix.

One test per mistake; each asserts the message's key words and, where the
mistake could change something, that nothing was changed.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlbook import (
    accuracy,
    evaluate,
    fit,
    load_digits_split,
    make_loaders,
    plot_history,
    standardize,
)

X = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
y = (X[:, 0] > 0).long()


def _fit(loader, loss_fn=None, val_loader=None, num_epochs=2, **kwargs):
    """``fit`` on a fresh linear model; returns the model it trained."""
    model = nn.Linear(2, kwargs.pop("outputs", 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    fit(model, loader, val_loader, loss_fn, opt, num_epochs, progress=False, **kwargs)
    return model


def _weights_kept(model_maker):
    """Run ``model_maker(model)`` expecting an error; the weights must not move."""
    model = nn.Linear(2, 2)
    before = [p.clone() for p in model.parameters()]
    model_maker(model)
    return all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


@pytest.mark.parametrize(
    ("batch", "words"),
    [
        ({"x": X, "y": y}, r"yields dicts with keys \['x', 'y'\].*\(batch\['x'\]"),
        ((X, y, y), "yields tuples of length 3.*TensorDataset"),
        ((X,), "yields tuples of length 1.*TensorDataset"),
        ((X.numpy(), y.numpy()), "numpy.ndarray.*torch.as_tensor"),
        (X, "yields Tensors.*TensorDataset"),
    ],
    ids=["dict", "triple", "X only", "numpy", "bare tensor"],
)
def test_loader_yielding_something_else_than_X_y_pairs(batch, words) -> None:
    with pytest.raises(TypeError, match=words):
        _fit([batch])
    with pytest.raises(TypeError, match="need \\(X, y\\) pairs of tensors"):
        evaluate(nn.Linear(2, 2), [batch], nn.CrossEntropyLoss())


def test_loss_fn_given_as_a_class() -> None:
    with pytest.raises(
        TypeError, match=r"class CrossEntropyLoss.*CrossEntropyLoss\(\)"
    ):
        _fit([(X, y)], loss_fn=nn.CrossEntropyLoss)
    with pytest.raises(TypeError, match="loss_fn=MSELoss()"):
        evaluate(nn.Linear(2, 2), [(X, y)], nn.MSELoss)


def test_loss_with_reduction_none() -> None:
    def train(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.CrossEntropyLoss(reduction="none")
        with pytest.raises(ValueError, match=r"shape \(16,\), not a scalar.*'mean'"):
            fit(model, [(X, y)], None, loss_fn, opt, 1, progress=False)

    assert _weights_kept(train)


def test_regression_with_the_default_accuracy_metric() -> None:
    targets = X.sum(dim=1, keepdim=True)  # (N, 1) float: a regression
    with pytest.raises(ValueError, match="regression\\? pass metric=None"):
        _fit([(X, targets)], loss_fn=nn.MSELoss(), outputs=1)
    _fit([(X, targets)], loss_fn=nn.MSELoss(), outputs=1, metric=None)  # works
    with pytest.raises(ValueError, match="integer class labels.*metric=None"):
        accuracy(torch.randn(4, 3), torch.randn(4))


def test_output_n_by_1_against_targets_n_would_broadcast() -> None:
    def train(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with pytest.raises(ValueError, match=r"\(16, 1\), the targets \(16,\).*view"):
            fit(
                model,
                [(X, X[:, 0])],
                None,
                nn.MSELoss(),
                opt,
                1,
                metric=None,
                progress=False,
            )

    model = nn.Linear(2, 1)
    before = [p.clone() for p in model.parameters()]
    train(model)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_a_one_shot_generator_as_loader() -> None:
    batches = ((X[i : i + 4], y[i : i + 4]) for i in range(0, 16, 4))
    with pytest.raises(TypeError, match="train_loader is an iterator.*DataLoader"):
        _fit(batches, num_epochs=3)
    with pytest.raises(TypeError, match="val_loader is an iterator"):
        _fit([(X, y)], val_loader=iter([(X, y)]), num_epochs=2)
    _fit(iter([(X, y)]), num_epochs=1)  # one pass is fine


def test_nan_in_the_inputs_is_not_blamed_on_the_learning_rate() -> None:
    dirty = X.clone()
    dirty[3, 1] = float("nan")

    def train(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with pytest.raises(FloatingPointError, match="batch 1 of the training") as e:
            fit(
                model,
                [(X, y), (dirty, y)],
                None,
                nn.CrossEntropyLoss(),
                opt,
                1,
                progress=False,
            )
        assert "NaN or infinite inputs X" in str(e.value)
        assert "learning rate is not the cause" in str(e.value)

    assert not _weights_kept(train)  # batch 0 trained; batch 1 did not step
    no_targets = torch.full((16, 2), float("nan"))
    with pytest.raises(FloatingPointError, match="NaN or infinite targets y"):
        _fit([(X, no_targets)], loss_fn=nn.MSELoss(), metric=None)


def test_nan_in_the_validation_data_is_reported() -> None:
    dirty = X.clone()
    dirty[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="evaluation .*NaN or infinite inputs"):
        _fit([(X, y)], val_loader=[(dirty, y)])
    with pytest.raises(FloatingPointError, match="NaN or infinite inputs"):
        evaluate(nn.Linear(2, 2), [(dirty, y)], nn.CrossEntropyLoss())


def test_accuracy_of_nan_logits() -> None:
    with pytest.raises(ValueError, match="NaN logits in 2 of 2 rows"):
        accuracy(torch.full((2, 3), float("nan")), torch.tensor([0, 0]))


def test_standardize_a_training_set_with_nan() -> None:
    holes = torch.ones(4, 3)
    holes[1, 2] = float("nan")
    with pytest.raises(ValueError, match=r"1 NaN values \(features \[2\]\).*Fill"):
        standardize(holes)


def test_plot_history_of_something_else() -> None:
    with pytest.raises(TypeError, match="history alone, not a pair"):
        plot_history((nn.Linear(1, 1), {"train_loss": [1.0]}))
    with pytest.raises(TypeError, match="got Linear: history = fit"):
        plot_history(nn.Linear(1, 1))


def test_make_loaders_with_splits_in_one_tuple_or_numpy() -> None:
    with pytest.raises(TypeError, match=r"train\[0\] is a tuple.*own argument"):
        make_loaders(((X, y), (X, y)))
    with pytest.raises(TypeError, match=r"train\[0\] is a numpy.ndarray.*as_tensor"):
        make_loaders((X.numpy(), y.numpy()))
    with pytest.raises(TypeError, match="got Tensor for train"):
        make_loaders(X, y)


def test_load_digits_split_with_too_small_a_split() -> None:
    with pytest.raises(ValueError, match="test_size gives 0 of 1797.*10 classes"):
        load_digits_split(test_size=0.0002)
    with pytest.raises(ValueError, match="val_size gives 2 of 1797.*at least 0.0056"):
        load_digits_split(val_size=0.001)
    with pytest.raises(ValueError, match="random_state.*Got 'a'"):  # scikit-learn
        load_digits_split(seed="a")
