"""The comparison as files: comparison.json, comparison.md (tables) and comparison.png (bars).

The bars are each arm's mean over seeds with ± one standard deviation as error bars and the
single seeds as dots, one panel per metric (losses and pass rates do not share a scale).
matplotlib is imported lazily (mlflow, a core dependency, installs it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_path, atomic_write_json, atomic_write_text


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mean_std(summary: dict[str, Any]) -> str:
    if summary["mean"] is None:
        return "-"
    if summary["std"] is None:
        return _number(summary["mean"])
    return f"{_number(summary['mean'])} ± {_number(summary['std'])}"


def markdown(data: dict[str, Any], title: str) -> str:
    """Per-seed table, per-arm mean ± std (n seeds), and each arm's difference from baseline."""
    metrics: list[str] = data["metrics"]
    lines = [f"# {title}", "", "## Runs", "",
             "| arm | seed | " + " | ".join(metrics) + " |",
             "|---|---:|" + "---:|" * len(metrics)]
    for row in data["rows"]:
        cells = [_number(row["metrics"].get(m)) for m in metrics]
        lines.append(f"| {row['arm']} | {row['seed']} | " + " | ".join(cells) + " |")
    seeds = data["seeds"]
    lines += ["", f"## Mean ± std over seeds {seeds}", "",
              "| arm | n | " + " | ".join(metrics) + " |", "|---|---:|" + "---:|" * len(metrics)]
    for arm in data["arms"]:
        per = data["summary"][arm]
        n = max((s["n"] for s in per.values()), default=0)
        lines.append(f"| {arm} | {n} | " + " | ".join(_mean_std(per[m]) for m in metrics) + " |")
    if data["differences"]:
        lines += ["", f"## Difference from {data['baseline']}", "",
                  "| arm | metric | difference | SE | 95% CI | seeds | paired | verdict |",
                  "|---|---|---:|---:|---:|---:|---|---|"]
        for d in data["differences"]:
            ci = "-" if d["ci95"] is None else f"± {_number(d['ci95'])}"
            lines.append(f"| {d['arm']} | {d['metric']} | {_number(d['diff'])} | "
                         f"{_number(d['se'])} | {ci} | {d['n']} | "
                         f"{'yes' if d['paired'] else 'no'} | {d['verdict']} |")
    lines += ["", "Difference: arm minus baseline, paired by seed when both arms ran the "
              "same seeds. SE: its standard error over seeds; 95% CI: Student t with seeds - 1 "
              "degrees of freedom. An interval that includes 0 is not distinguishable from "
              "seed noise.", ""]
    return "\n".join(lines)


def plot(data: dict[str, Any], path: Path, title: str) -> Path | None:
    """One bar panel per metric; None when no metric has a value."""
    metrics = [m for m in data["metrics"]
               if any(data["summary"][a][m]["mean"] is not None for a in data["arms"])]
    if not metrics:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    arms: list[str] = data["arms"]
    fig = Figure(figsize=(max(3.2 * len(metrics), 4.8), 3.4))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
    for ax, metric in zip(axes, metrics, strict=True):
        for i, arm in enumerate(arms):
            s = data["summary"][arm][metric]
            if s["mean"] is None:
                continue
            color = colors[i % len(colors)]
            bars = ax.bar(i, s["mean"], yerr=s["std"] or 0.0, capsize=6, color=color,
                          alpha=0.8, width=0.6)
            ax.bar_label(bars, labels=[f"{s['mean']:.4f}"], fontsize=8, padding=2)
            ax.plot([i] * len(s["values"]), s["values"], "o", color="black", ms=3)
        ax.set_xticks(range(len(arms)), arms)
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{title}  (bars: mean ± std over seeds {data['seeds']}; dots: seeds)",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    return path


def write_report(data: dict[str, Any], out_dir: Path, title: str) -> list[Path]:
    """comparison.json, comparison.md and (when there is a value) comparison.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "comparison.json", out_dir / "comparison.md"
    atomic_write_json(json_path, data)
    atomic_write_text(md_path, markdown(data, title))
    png = plot(data, out_dir / "comparison.png", title)
    return [json_path, md_path] + ([png] if png is not None else [])
