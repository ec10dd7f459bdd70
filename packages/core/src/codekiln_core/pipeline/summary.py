"""The pipeline's closing table, and its summary.json."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.pipeline.runner import PipelineResult, step_table_rows

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {"ran": "green", "skipped": "cyan", "failed": "red", "interrupted": "red",
          "disabled": "dim", "outside range": "dim", "pending": "yellow"}


def print_summary(console: Console, result: PipelineResult) -> None:
    """One row per step: status, time, run id and key metrics (read from the child run)."""
    from rich.table import Table

    table = Table(title=f"pipeline {result.name}  (parent run {result.parent_run_id})")
    for column in ("step", "kind", "status", "time", "run", "metrics"):
        table.add_column(column, justify="right" if column == "time" else "left",
                         overflow="fold")
    for row in step_table_rows(result):
        style = _STYLE.get(row["status"], "")
        seconds = row["seconds"]
        shown = f"{seconds:.1f}s" if seconds else "-"
        if row["status"] == "skipped" and seconds:
            shown = f"({seconds:.1f}s)"
        metrics = "\n".join(f"{k}={_number(v)}" for k, v in row["metrics"].items())
        status = f"[{style}]{row['status']}[/{style}]" if style else row["status"]
        note = f" {row['note']}" if row["note"] and row["status"] != "ran" else ""
        table.add_row(row["step"], row["kind"], status + note, shown,
                      (row["run_id"] or "-")[:8], metrics or "-")
    console.print(table)


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:.4g}"
