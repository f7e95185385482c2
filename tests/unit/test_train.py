import pytest
import torch
from torch import nn

from dlbook import (
    accuracy,
    evaluate,
    fit,
    make_loaders,
    make_mlp,
    plot_history,
    set_seed,
)


def blobs(n=200):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (n,), generator=g)
    X = torch.randn(n, 2, generator=g) * 0.5 + torch.stack([y, y % 2], 1).float() * 2
    return X, y


def test_accuracy_matches_a_direct_count():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "logits, targets",
    [(torch.zeros(3), torch.zeros(3)), (torch.zeros(3, 2), torch.zeros(2))],
)
def test_accuracy_rejects_bad_shapes(logits, targets):
    with pytest.raises(ValueError, match=r"accuracy expects logits \(N, C\)"):
        accuracy(logits, targets)


def test_evaluate_weights_batches_by_size():
    model = nn.Linear(2, 3)
    X, y = blobs(10)
    loss_fn = nn.CrossEntropyLoss()
    full = evaluate(model, [(X, y)], loss_fn)
    split = evaluate(model, [(X[:7], y[:7]), (X[7:], y[7:])], loss_fn)
    assert split["loss"] == pytest.approx(full["loss"], rel=1e-6)
    assert split["metric"] == pytest.approx(full["metric"])


def test_evaluate_restores_training_mode_and_builds_no_graph():
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5))
    model.train()
    seen = []
    model.register_forward_hook(
        lambda module, args, out: seen.append((module.training, out.requires_grad))
    )
    X, y = blobs(8)
    evaluate(model, [(X, y)], nn.CrossEntropyLoss())
    assert seen == [(False, False)]  # eval mode, and no graph was recorded
    assert model.training


def test_evaluate_restores_training_mode_after_an_error():
    model = nn.Linear(2, 3)
    with pytest.raises(RuntimeError):
        evaluate(model, [(torch.zeros(4, 5), torch.zeros(4).long())], nn.MSELoss())
    assert model.training


def test_evaluate_checks_the_device_name():
    with pytest.raises(RuntimeError, match="device string: gpu"):
        evaluate(nn.Linear(2, 3), [blobs(4)], nn.CrossEntropyLoss(), device="gpu")


def test_accuracy_needs_two_classes():
    with pytest.raises(ValueError, match=r"at least 2 classes.*\(4, 1\)"):
        accuracy(torch.zeros(4, 1), torch.zeros(4).long())


def test_fit_refuses_an_optimizer_built_on_another_model():
    stale = nn.Linear(2, 3)  # e.g. the model before its cell was re-run
    opt = torch.optim.SGD(stale.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="holds none of the model's parameters"):
        fit(
            nn.Linear(2, 3),
            [blobs(8)],
            None,
            nn.CrossEntropyLoss(),
            opt,
            1,
            device="cpu",
            progress=False,
        )


def test_fit_learns_and_records_history():
    set_seed(0)
    X, y = blobs()
    train_loader, val_loader = make_loaders((X, y), (X, y), batch_size=32)
    model = make_mlp(2, 16, 3)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    h = fit(
        model,
        train_loader,
        val_loader,
        nn.CrossEntropyLoss(),
        opt,
        15,
        device="cpu",
        progress=False,
    )
    assert all(len(v) == 15 for v in h.values())
    assert h["train_loss"][-1] < h["train_loss"][0] / 3
    assert h["val_metric"][-1] > 0.9


def test_fit_matches_a_hand_written_loop():
    X, y = blobs(64)
    loss_fn = nn.CrossEntropyLoss()

    def run(use_fit):
        set_seed(1)
        model = make_mlp(2, 8, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loader = [(X[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
        if use_fit:
            fit(model, loader, None, loss_fn, opt, 3, device="cpu", progress=False)
        else:
            for _ in range(3):
                for xb, yb in loader:
                    loss = loss_fn(model(xb), yb)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        return [p.detach().clone() for p in model.parameters()]

    for a, b in zip(run(True), run(False)):
        torch.testing.assert_close(a, b)


def fit_linear(val: bool, num_epochs: int, **kwargs) -> dict[str, list[float]]:
    """fit() on a 3-class linear model and one batch of blobs."""
    X, y = blobs(32)
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(X, y)]
    return fit(
        model,
        loader,
        loader if val else None,
        nn.CrossEntropyLoss(),
        opt,
        num_epochs,
        device="cpu",
        progress=False,
        **kwargs,
    )


def test_fit_without_validation_or_metric():
    assert sorted(fit_linear(False, 2, metric=None)) == ["train_loss"]


def test_early_stop_callback_ends_training():
    h = fit_linear(True, 50, on_epoch_end=lambda epoch, h: epoch == 2)
    assert len(h["train_loss"]) == 3


def test_fit_reports_divergence():
    X, y = blobs(32)
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(
            model,
            [(X, y.float().unsqueeze(1))],
            None,
            nn.MSELoss(),
            opt,
            10,
            metric=None,
            device="cpu",
            progress=False,
        )


@pytest.mark.parametrize("num_epochs", [0, -1, 2.5, True])
def test_fit_rejects_bad_epochs(num_epochs):
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="num_epochs must be a positive int"):
        fit(model, [], None, nn.CrossEntropyLoss(), opt, num_epochs, device="cpu")


def test_fit_rejects_an_empty_loader():
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="empty train_loader"):
        fit(
            model, [], None, nn.CrossEntropyLoss(), opt, 1, device="cpu", progress=False
        )


def test_progress_bar_goes_to_stderr_and_can_be_disabled(capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)  # as in a plain shell
    X, y = blobs(16)
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, [(X, y)], None, nn.CrossEntropyLoss(), opt, 2, device="cpu")
    assert "epochs" in capsys.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    fit(model, [(X, y)], None, nn.CrossEntropyLoss(), opt, 2, device="cpu")
    assert capsys.readouterr().err == ""


def test_plot_history_draws_both_panels_and_states_the_best():
    h = {
        "train_loss": [1.0, 0.5],
        "val_loss": [1.1, 0.6],
        "train_metric": [0.5, 0.8],
        "val_metric": [0.4, 0.75],
    }
    fig = plot_history(h)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig._suptitle.get_text() == "best validation accuracy: 0.750"
    assert len(fig.axes[0].lines) == 2


def test_plot_history_rejects_empty_history():
    with pytest.raises(ValueError, match="non-empty 'train_loss'"):
        plot_history({"val_loss": [1.0]})
