"""Figures that read what training returned."""

from __future__ import annotations

__all__ = ["plot_history"]


def plot_history(
    history: dict[str, list[float]],
    title: str | None = None,
    metric_name: str = "accuracy",
):
    """Loss curves (and metric curves) per epoch, train against validation.

    Args:
        history: what ``fit`` returned (``train_loss`` at least).
        title: figure title; by default it states the best validation result.
        metric_name: label of the metric axis.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> fig = plot_history({"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['loss']
    """
    if not isinstance(history, dict):
        hint = "history = fit(...); plot_history(history)"
        if isinstance(history, tuple) and any(isinstance(h, dict) for h in history):
            hint = "pass the history alone, not a pair such as (model, history)"
        raise TypeError(
            "plot_history expects the history dict that fit returns, got "
            f"{type(history).__name__}: {hint}"
        )
    if not history.get("train_loss"):
        raise ValueError(
            f"history needs a non-empty 'train_loss' list; got keys {sorted(history)}"
        )
    import matplotlib.pyplot as plt  # imported on first use: ~1 s per process
    from matplotlib.ticker import MaxNLocator

    has_metric = bool(history.get("train_metric") or history.get("val_metric"))
    ncols = 2 if has_metric else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 3.4), squeeze=False)
    panels = [("loss", "loss")] + ([("metric", metric_name)] if has_metric else [])
    for ax, (key, label) in zip(axes[0], panels):
        for split, style in (("train", "-"), ("val", "--")):
            values = history.get(f"{split}_{key}")
            if values:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, marker=".", label=split)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or _default_title(history, metric_name))
    fig.tight_layout()
    plt.close(fig)
    return fig


def _default_title(history: dict[str, list[float]], metric_name: str) -> str:
    if history.get("val_metric"):
        best = max(history["val_metric"])
        return f"best validation {metric_name}: {best:.3f}"
    if history.get("val_loss"):
        return f"lowest validation loss: {min(history['val_loss']):.4f}"
    return f"final training loss: {history['train_loss'][-1]:.4f}"
