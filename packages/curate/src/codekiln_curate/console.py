"""Terminal output: rich progress bars during a run, the summary table after it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from codekiln_core.errors import LineageError
from codekiln_curate.engine.cluster import lost_nodes_line


@contextmanager
def progress_bars(console: Console, *, enabled: bool = True
                  ) -> Iterator[Callable[[str, int], Callable[[], None]] | None]:
    """A factory ``(label, total) -> advance`` backed by one rich bar per pass.

    The display starts with the first bar, so an error raised while planning is the first
    line on the terminal (no blank line left by an empty live display).
    """
    if not enabled:
        yield None
        return
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)

    def start(label: str, total: int) -> Callable[[], None]:
        if not bars.live.is_started:
            bars.start()
        task = bars.add_task(label, total=total)
        return lambda: bars.advance(task)

    try:
        yield start
    finally:
        if bars.live.is_started:
            bars.stop()


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f}"


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    console.print(summary_tables(summary))


def summary_tables(summary: dict[str, Any]) -> Group:
    """Stages with kept/dropped counts, then the drop reasons."""
    t = summary["totals"]
    table = Table(title=f"curate: {summary.get('name', '')}")
    for col in ("stage", "in docs", "kept", "dropped", "dropped MB"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for name, s in summary["stages"].items():
        dropped = sum(v[0] for v in s["reasons"].values())
        dropped_bytes = sum(v[1] for v in s["reasons"].values())
        table.add_row(name, str(s["in_docs"]), str(s["out_docs"]), str(dropped),
                      _mb(dropped_bytes))
    table.add_row("total", str(t["in_docs"]), str(t["kept_docs"]), str(t["dropped_docs"]),
                  _mb(t["in_bytes"] - t["kept_bytes"]), style="bold")
    reasons = Table(title="drop reasons")
    for col in ("stage", "reason", "docs", "MB"):
        reasons.add_column(col, justify="left" if col in ("stage", "reason") else "right")
    for name, s in summary["stages"].items():
        for reason, (docs, size) in s["reasons"].items():
            reasons.add_row(name, reason, str(docs), _mb(size))
    lost = lost_nodes_line(summary)
    return Group(table, reasons, *([Text(lost, style="yellow")] if lost else []))


def summary_from_run(run_id: str) -> dict[str, Any]:
    """Download ``report/summary.json`` of a curate run from the MLflow store."""
    from codekiln_core.lineage.store import connect

    client, _ = connect()
    try:
        client.get_run(run_id)
        local = client.download_artifacts(run_id, "report/summary.json")
    except Exception as exc:
        raise LineageError(f"{run_id!r} is neither an output directory nor a curate run with "
                           f"report/summary.json in the MLflow store ({exc.__class__.__name__});"
                           " pass the run's --output directory") from exc
    with open(local, encoding="utf-8") as handle:
        return dict(json.loads(handle.read()))
