"""``codekiln eval report``: summaries as a rich table and a pass@k bar chart (Agg)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError


def load_summary(ref: str) -> dict[str, Any]:
    """A run directory's summary.json, or the one logged with an MLflow run id."""
    path = Path(ref)
    if path.is_dir():
        summary_file = path / "summary.json"
        if not summary_file.exists():
            raise ConfigError(f"{path}: no summary.json; is this an eval run directory?")
        data = json.loads(summary_file.read_text(encoding="utf-8"))
        data["_run_dir"] = str(path)
        return dict(data)
    from codekiln_core.lineage.store import connect

    target = Path(tempfile.mkdtemp(prefix="codekiln-eval-report-"))
    try:
        client, _ = connect(create=False)
        local = client.download_artifacts(ref, "eval", str(target))
    except Exception as exc:
        raise ConfigError(f"{ref!r} is neither a run directory nor an MLflow run with eval "
                          f"artifacts ({type(exc).__name__})") from exc
    return load_summary(local)


def load_summaries(refs: list[str]) -> list[dict[str, Any]]:
    return [load_summary(ref) for ref in refs]


def render_table(summaries: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from codekiln_core.cli.console import table_console

    ks = sorted({k for s in summaries for k in s["pass_at_k"]}, key=lambda x: int(x[5:]))
    table = Table(title="pass@k")
    for col in ("benchmark", "model", "tasks", "n", *ks):
        table.add_column(col)
    for s in summaries:
        values = [s["pass_at_k"].get(k) for k in ks]
        table.add_row(s["benchmark"], str(s.get("model", "")), str(s["num_tasks_complete"]),
                      str(s["n"]), *("-" if v is None else f"{100 * v:.1f}" for v in values))
    table_console().print(table)


def save_plot(summaries: list[dict[str, Any]], target: Path) -> None:
    """Grouped bars: one group per benchmark, one bar per k (and per model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{s['benchmark']}\n{Path(str(s.get('model', ''))).name[:20]}" for s in summaries]
    ks = sorted({k for s in summaries for k in s["pass_at_k"]}, key=lambda x: int(x[5:]))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(summaries) * max(1, len(ks))), 3.5))
    width = 0.8 / max(1, len(ks))
    for j, k in enumerate(ks):
        xs = [i + j * width for i in range(len(summaries))]
        ys = [100 * (s["pass_at_k"].get(k) or 0.0) for s in summaries]
        ax.bar(xs, ys, width=width, label=k)
    ax.set_xticks([i + width * (len(ks) - 1) / 2 for i in range(len(summaries))], labels)
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 100)
    ax.legend()
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=100)
    plt.close(fig)
