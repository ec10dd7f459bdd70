"""What the parent run keeps: summary.json, the lineage picture (PNG + HTML), metric plots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.fsio import atomic_write_json
from codekiln_core.pipeline.runner import PipelineResult, step_table_rows

if TYPE_CHECKING:
    from mlflow import MlflowClient


def publish(result: PipelineResult, client: MlflowClient | None) -> list[str]:
    """Write and log the pipeline's artifacts; returns lines to tell the user where they are."""
    if client is None:
        return []
    report = result.workdir / ".pipeline" / "report"
    report.mkdir(parents=True, exist_ok=True)
    summary = report / "summary.json"
    atomic_write_json(summary, {"pipeline": result.name, "parent_run_id": result.parent_run_id,
                                "steps": step_table_rows(result)})
    client.log_artifact(result.parent_run_id, str(summary), "pipeline")
    lines = [f"summary: {summary}"]
    lines.extend(_lineage(result, client, report))
    lines.extend(_plots(result, client, report))
    return lines


def _lineage(result: PipelineResult, client: MlflowClient, report: object) -> list[str]:
    from pathlib import Path

    from codekiln_core.lineage.chain import walk_chain
    from codekiln_core.lineage.draw import write_html, write_png
    from codekiln_core.lineage.graph import build_graph

    assert isinstance(report, Path)
    graph = build_graph(walk_chain(result.parent_run_id))
    if not graph.nodes:  # no step logged a run (e.g. only inspection commands)
        return []
    png, html = report / "lineage.png", report / "lineage.html"
    write_png(graph, png)
    write_html(graph, html)
    client.log_artifact(result.parent_run_id, str(png), "lineage")
    client.log_artifact(result.parent_run_id, str(html), "lineage")
    return [f"lineage: {png}  {html}"]


def _plots(result: PipelineResult, client: MlflowClient, report: object) -> list[str]:
    from pathlib import Path

    from codekiln_core.plots import plot_run_metrics

    assert isinstance(report, Path)
    lines = []
    for step in result.steps:
        if step.status != "ran" or not step.run_id:
            continue
        path = plot_run_metrics(step.run_id, report / f"metrics-{step.name}.png",
                                title=f"{step.name} ({step.kind})")
        if path is not None:
            client.log_artifact(step.run_id, str(path), "plots")
            client.log_artifact(result.parent_run_id, str(path), "plots")
            lines.append(f"plots: {path}")
    return lines
