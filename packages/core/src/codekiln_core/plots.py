"""Curves of a run's metric histories (loss, validation loss, learning rate) as one PNG.

It reads what a run logged, by run id, so the pipeline can draw any step after the fact and
training packages need no plotting code of their own. matplotlib is imported lazily (mlflow,
a core dependency, installs it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from codekiln_core.fsio import atomic_path

History = Sequence[tuple[int, float]]  # (step, value), in logging order
_LR_WORDS = ("lr", "learning_rate")


def metric_histories(run_id: str, *, min_points: int = 2) -> dict[str, list[tuple[int, float]]]:
    """Every metric of the run logged at ``min_points`` or more steps, sorted by step."""
    from codekiln_core.lineage.store import connect

    client, _ = connect()
    histories: dict[str, list[tuple[int, float]]] = {}
    for key in sorted(client.get_run(run_id).data.metrics):
        points = sorted((m.step, float(m.value)) for m in client.get_metric_history(run_id, key))
        if len({step for step, _ in points}) >= min_points:
            histories[key] = points
    return histories


def is_learning_rate(name: str) -> bool:
    leaf = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower()
    return leaf in _LR_WORDS or leaf.endswith("_lr")


def plot_histories(histories: Mapping[str, History], path: Path, *,
                   title: str = "") -> Path | None:
    """Loss-like curves on the left axis, learning rates in a panel below; None if empty."""
    if not histories:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rates = {k: v for k, v in histories.items() if is_learning_rate(k)}
    others = {k: v for k, v in histories.items() if k not in rates}
    panels = [p for p in (others, rates) if p]
    fig = Figure(figsize=(6.4, 2.6 * len(panels) + 0.4))
    axes = fig.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        for name, points in sorted(panel.items()):
            steps = [s for s, _ in points]
            ax.plot(steps, [v for _, v in points], label=name, lw=1.2,
                    marker="o" if len(points) < 30 else None, ms=3)
        ax.set_ylabel("learning rate" if panel is rates else "value")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1].set_xlabel("step")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    return path


def plot_run_metrics(run_id: str, path: Path, *, title: str = "") -> Path | None:
    """The PNG of ``run_id``'s curves, or None when it logged no metric at several steps."""
    return plot_histories(metric_histories(run_id), path, title=title or f"run {run_id[:8]}")
