"""The pipeline's closing table: each step, its time, key metrics and plots."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from codekiln_core.pipeline.runner import PipelineResult, step_table_rows

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {"ran": "green", "skipped": "cyan", "failed": "red", "interrupted": "red",
          "disabled": "dim", "outside range": "dim", "pending": "yellow"}


def print_summary(console: Console, result: PipelineResult) -> None:
    """One row per step: status, time, run id, key metrics (read from the child run) and the
    plots ``publish`` put in the report directory (call it first)."""
    from rich.table import Table

    plots = report_plots(result)
    table = Table(title=f"pipeline {result.name}  (parent run {result.parent_run_id})")
    columns = ("step", "kind", "status", "time", "run", "metrics", *(("plots",) * bool(plots)))
    for column in columns:
        table.add_column(column, justify="right" if column == "time" else "left",
                         overflow="fold")
    if plots:
        from codekiln_core.pipeline.artifacts import report_dir

        table.caption = f"plots in {report_dir(result)}/ and in the parent run's plots/"
    for row in step_table_rows(result):
        style = _STYLE.get(row["status"], "")
        seconds = row["seconds"]
        shown = f"{seconds:.1f}s" if seconds else "-"
        if row["status"] == "skipped" and seconds:
            shown = f"({seconds:.1f}s)"
        metrics = "\n".join(f"{k}={_number(v)}" for k, v in row["metrics"].items())
        status = f"[{style}]{row['status']}[/{style}]" if style else row["status"]
        note = f" {row['note']}" if row["note"] and row["status"] != "ran" else ""
        cells = [row["step"], row["kind"], status + note, shown, (row["run_id"] or "-")[:8],
                 metrics or "-"]
        if plots:
            cells.append("\n".join(plots.get(row["step"], [])) or "-")
        table.add_row(*cells)
    console.print(table)


def report_plots(result: PipelineResult) -> dict[str, list[str]]:
    """Plot files per step from this invocation's report/summary.json ({} before publish)."""
    from codekiln_core.pipeline.artifacts import report_dir

    path = report_dir(result) / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("parent_run_id") != result.parent_run_id:
        return {}
    return {str(row["step"]): [str(p) for p in row.get("plots", [])]
            for row in data.get("steps", []) if row.get("plots")}


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:.4g}"
