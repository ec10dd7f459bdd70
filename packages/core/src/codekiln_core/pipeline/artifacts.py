"""What the parent run keeps: summary.json, the lineage picture (PNG + HTML), the plots.

Everything is written to ``WORKDIR/.pipeline/report/`` first (to look at without MLflow)
and logged to the parent run: ``pipeline/summary.json``, ``lineage/``, ``plots/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_json
from codekiln_core.pipeline.runner import PipelineResult, step_table_rows

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from codekiln_core.pipeline.report_plots import ReportPlots


def report_dir(result: PipelineResult) -> Path:
    return result.workdir / ".pipeline" / "report"


def publish(result: PipelineResult, client: MlflowClient | None) -> list[str]:
    """Write and log the pipeline's artifacts; returns lines to tell the user where they are."""
    if client is None:
        return []
    report = report_dir(result)
    report.mkdir(parents=True, exist_ok=True)
    lines = _lineage(result, client, report)
    from codekiln_core.pipeline.report_plots import gather_plots

    plots = gather_plots(result, client, report)
    for name in plots.files():
        client.log_artifact(result.parent_run_id, str(report / name), "plots")
    if plots.files():
        lines.append(f"plots: {report}/ ({len(plots.files())} files)")
    summary = report / "summary.json"
    atomic_write_json(summary, summary_data(result, plots))
    client.log_artifact(result.parent_run_id, str(summary), "pipeline")
    _describe(result, client)
    return [f"summary: {summary}", *lines]


def _describe(result: PipelineResult, client: MlflowClient) -> None:
    """The parent run's description: each step's run as a link (best effort)."""
    from codekiln_core.lineage.publish import write_pipeline_note

    steps = [(s.name, s.run_id, s.status) for s in result.steps]
    try:
        write_pipeline_note(client, result.parent_run_id, result.name, steps)
    except Exception as exc:  # reported, never raised: the steps' work is done
        import sys

        print(f"codekiln: pipeline run {result.parent_run_id}: description not written "
              f"({type(exc).__name__}: {str(exc)[:300]})", file=sys.stderr)


def summary_data(result: PipelineResult, plots: ReportPlots) -> dict[str, Any]:
    """summary.json: the step table, each step's plots (paths relative to the report dir)."""
    rows = step_table_rows(result)
    for row in rows:
        row["plots"] = plots.by_step.get(row["step"], [])
    return {"pipeline": result.name, "parent_run_id": result.parent_run_id, "steps": rows,
            "plots": plots.files()}


def _lineage(result: PipelineResult, client: MlflowClient, report: Path) -> list[str]:
    from codekiln_core.lineage.chain import walk_chain
    from codekiln_core.lineage.draw import write_html, write_png
    from codekiln_core.lineage.graph import build_graph

    graph = build_graph(walk_chain(result.parent_run_id))
    if not graph.nodes:  # no step logged a run (e.g. only inspection commands)
        return []
    png, html = report / "lineage.png", report / "lineage.html"
    write_png(graph, png)
    write_html(graph, html)
    client.log_artifact(result.parent_run_id, str(png), "lineage")
    client.log_artifact(result.parent_run_id, str(html), "lineage")
    return [f"lineage: {png}  {html}"]
