"""Training curves (loss, validation loss, learning rate, reward) and pass@k bars as PNGs.

Every lineage run keeps the step histories of the metrics worth a curve (:class:`Curves`)
and, when it ends, logs ``plots/curves.png`` and the data drawn in it, ``plots/curves.json``
(see :meth:`codekiln_core.lineage.LineageRun.write_curves`): training packages need no
plotting code. matplotlib (installed with mlflow, a core dependency) is imported only
when a figure is drawn; a run that logged no metric at two steps never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_path, atomic_write_json

History = Sequence[tuple[int, float]]  # (step, value), in step order
_LR_WORDS = ("lr", "learning_rate")
#: Panels of a curves figure, top to bottom; a metric goes in the first whose test it passes.
PANELS = ("loss", "learning rate", "reward")
#: Points kept per series: beyond twice this, every other point goes (first and last stay).
MAX_POINTS = 1000


def is_learning_rate(name: str) -> bool:
    leaf = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower()
    return leaf in _LR_WORDS or leaf.endswith("_lr")


def panel_of(name: str) -> str | None:
    """Which panel draws metric ``name``; None for metrics without a curve (throughput...)."""
    lowered = name.lower()
    if is_learning_rate(name):
        return "learning rate"
    if "loss" in lowered and not lowered.startswith("final"):
        return "loss"
    if "reward" in lowered or "pass_rate" in lowered or "accuracy" in lowered:
        return "reward"
    return None


class Curves:
    """Step histories of the metrics :func:`panel_of` draws, thinned to bounded memory."""

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        self.max_points = max_points
        self._points: dict[str, dict[int, float]] = {}
        self._stride: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        self._last: dict[str, tuple[int, float]] = {}

    def add(self, metrics: Mapping[str, float], step: int) -> None:
        for name, value in metrics.items():
            if panel_of(name) is None:
                continue
            points = self._points.setdefault(name, {})
            seen = self._seen.get(name, 0)
            self._seen[name] = seen + 1
            self._last[name] = (step, float(value))
            stride = self._stride.get(name, 1)
            if seen % stride:
                continue
            points[step] = float(value)
            if len(points) > 2 * self.max_points:
                kept = sorted(points.items())[::2]
                self._points[name] = dict(kept)
                self._stride[name] = stride * 2

    def histories(self, min_points: int = 1) -> dict[str, list[tuple[int, float]]]:
        """Series with ``min_points`` distinct steps or more, the last logged point included."""
        out: dict[str, list[tuple[int, float]]] = {}
        for name, points in sorted(self._points.items()):
            merged = dict(points)
            step, value = self._last[name]
            merged[step] = value
            if len(merged) >= min_points:
                out[name] = sorted(merged.items())
        return out


def curve_data(histories: Mapping[str, History], *, title: str = "") -> dict[str, Any]:
    """What a curves figure draws, by panel: the JSON written beside the PNG."""
    panels: dict[str, dict[str, list[list[float]]]] = {}
    for name, points in sorted(histories.items()):
        panel = panel_of(name)
        if panel is not None and points:
            panels.setdefault(panel, {})[name] = [[int(s), float(v)] for s, v in points]
    return {"title": title, "panels": {p: panels[p] for p in PANELS if p in panels}}


def draw_curves(data: Mapping[str, Any], path: Path) -> Path | None:
    """One panel per kind of metric, sharing the step axis; None when there is nothing."""
    panels: dict[str, dict[str, list[list[float]]]] = dict(data["panels"])
    if not panels:
        return None
    fig = _figure((6.4, 2.4 * len(panels) + 0.5))
    axes = fig.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0]
    for ax, (panel, series) in zip(axes, panels.items(), strict=True):
        for name, points in series.items():
            ax.plot([p[0] for p in points], [p[1] for p in points], label=name, lw=1.2,
                    marker="o" if len(points) < 30 else None, ms=3)
        ax.set_ylabel(panel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1].set_xlabel("step")
    if data.get("title"):
        fig.suptitle(str(data["title"]))
    return _save(fig, path)


def write_curves(histories: Mapping[str, History], directory: Path, *,
                 title: str = "") -> list[Path]:
    """``curves.png`` and ``curves.json`` in ``directory``; [] unless some drawn metric has
    two steps or more (a lone point, e.g. a validation loss at the end, joins as a dot)."""
    data = curve_data(histories, title=title)
    if not any(len(points) >= 2 for series in data["panels"].values()
               for points in series.values()):
        return []
    png = draw_curves(data, directory / "curves.png")
    if png is None:
        return []
    atomic_write_json(directory / "curves.json", data)
    return [png, directory / "curves.json"]


def metric_histories(run_id: str, *, min_points: int = 2) -> dict[str, list[tuple[int, float]]]:
    """Every metric of a logged run with ``min_points`` distinct steps (read from MLflow)."""
    from codekiln_core.lineage.store import connect

    client, _ = connect()
    histories: dict[str, list[tuple[int, float]]] = {}
    for key in sorted(client.get_run(run_id).data.metrics):
        points = sorted({m.step: float(m.value)
                         for m in client.get_metric_history(run_id, key)}.items())
        if len(points) >= min_points:
            histories[key] = points
    return histories


def plot_run_metrics(run_id: str, path: Path, *, title: str = "") -> Path | None:
    """The curves PNG of a logged run, from its MLflow history (runs older than the hook)."""
    data = curve_data(metric_histories(run_id), title=title or f"run {run_id[:8]}")
    return draw_curves(data, path)


# -- pass@k --------------------------------------------------------------------------------


def pass_at_k_data(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``rows``: ``{"label", "benchmark", "pass_at_k": {"pass@1": 0.1, ...}}`` per eval run.

    Grouped by benchmark (in first-seen order), one bar per run and k, values in percent.
    """
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for row in rows:
        bars = {k: 100 * float(v) for k, v in row["pass_at_k"].items() if v is not None}
        if bars:
            groups.setdefault(str(row["benchmark"]), {})[str(row["label"])] = bars
    ks = sorted({k for runs in groups.values() for bars in runs.values() for k in bars},
                key=lambda k: int("".join(ch for ch in k if ch.isdigit()) or 0))
    return {"ks": ks, "benchmarks": groups}


def draw_pass_at_k(data: Mapping[str, Any], path: Path, *, title: str = "pass@k") -> Path | None:
    """One group per benchmark; in it a bar per (eval run, k) it has, labelled with its value.

    Colour says the eval run (the same in every group), hatching says k.
    """
    groups: dict[str, dict[str, dict[str, float]]] = dict(data["benchmarks"])
    if not groups:
        return None
    from matplotlib.patches import Patch

    ks: list[str] = list(data["ks"])
    labels = list(dict.fromkeys(label for runs in groups.values() for label in runs))
    hatches = ["", "//", "..", "xx", "\\\\", "++"]
    bars = {b: [(lab, k) for lab in runs for k in ks if k in runs[lab]]
            for b, runs in groups.items()}
    width = 0.8 / max(1, max(len(v) for v in bars.values()))
    fig = _figure((max(4.5, 1.5 + 0.45 * sum(len(v) for v in bars.values())), 3.8))
    ax = fig.subplots()
    colours = [f"C{i % 10}" for i in range(len(labels))]
    for i, (benchmark, items) in enumerate(bars.items()):
        left = i - width * (len(items) - 1) / 2
        for j, (label, k) in enumerate(items):
            value = groups[benchmark][label][k]
            x = left + j * width
            ax.bar(x, value, width=width * 0.95, color=colours[labels.index(label)],
                   hatch=hatches[ks.index(k) % len(hatches)], edgecolor="white")
            ax.text(x, value + 1, f"{value:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 105)
    ax.grid(axis="y", alpha=0.3)
    handles = [Patch(color=c, label=lab) for c, lab in zip(colours, labels, strict=True)]
    if len(ks) > 1:
        handles += [Patch(facecolor="white", edgecolor="grey", hatch=hatches[n % len(hatches)],
                          label=k) for n, k in enumerate(ks)]
    ax.legend(handles=handles, fontsize=8)
    ax.set_title(title if len(ks) > 1 else f"{title} ({ks[0]})")
    return _save(fig, path)


def write_pass_at_k(rows: Sequence[Mapping[str, Any]], path: Path) -> list[Path]:
    """The bar chart at ``path`` and its data beside it (``.json``); [] with no pass@k."""
    data = pass_at_k_data(rows)
    png = draw_pass_at_k(data, path)
    if png is None:
        return []
    sidecar = path.with_suffix(".json")
    atomic_write_json(sidecar, data)
    return [png, sidecar]


def _figure(size: tuple[float, float]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    return path
