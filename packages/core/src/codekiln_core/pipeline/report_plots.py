"""The pipeline report's pictures, gathered from the step runs' own artifacts.

Each training step's run already holds ``plots/curves.png`` (drawn by its lineage run as it
ended), a score step's run its gate histogram (``report/score_histogram.png``), an eval
step's run its pass@k. This module copies the first two into ``WORKDIR/.pipeline/report/``
and draws one pass@k chart across every eval step, grouped by benchmark.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.pipeline.runner import PipelineResult, StepOutcome

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: A step's run artifact -> the report file it becomes (STEP is the step's name).
COPIED = {"plots/curves.png": "curves-{step}.png", "plots/curves.json": "curves-{step}.json",
          "report/score_histogram.png": "gate-{step}.png"}
PASS_AT_K = "passk.png"


@dataclass
class ReportPlots:
    """Report files, by name in the report directory: pictures per step, and the data drawn."""

    by_step: dict[str, list[str]] = field(default_factory=dict)  # PNGs (passk.png: shared)
    data: list[str] = field(default_factory=list)  # the JSON beside each PNG

    def files(self) -> list[str]:
        pictures = [f for files in self.by_step.values() for f in files]
        return list(dict.fromkeys([*pictures, *self.data]))


def gather_plots(result: PipelineResult, client: MlflowClient, report: Path) -> ReportPlots:
    """Copy each step run's pictures into ``report`` and draw the pass@k chart."""
    plots = ReportPlots()
    evals: list[dict[str, Any]] = []
    for step in result.steps:
        if not step.run_id:
            continue
        names = _artifact_names(client, step.run_id)
        copied = [_copy(client, step.run_id, artifact, report / target.format(step=step.name))
                  for artifact, target in COPIED.items() if artifact in names]
        files = [p.name for p in copied if p.suffix == ".png"]
        plots.data.extend(p.name for p in copied if p.suffix == ".json")
        row = _eval_row(client, step)
        if row is not None:
            evals.append(row)
            files.append(PASS_AT_K)
        if files:
            plots.by_step[step.name] = files
    if evals:
        from codekiln_core.plots import write_pass_at_k

        written = write_pass_at_k(evals, report / PASS_AT_K)
        plots.data.extend(p.name for p in written if p.suffix == ".json")
        if not written:
            for files in plots.by_step.values():
                if PASS_AT_K in files:
                    files.remove(PASS_AT_K)
    return plots


def _artifact_names(client: MlflowClient, run_id: str) -> set[str]:
    names: set[str] = set()
    for folder in {artifact.split("/", 1)[0] for artifact in COPIED}:
        names.update(a.path for a in client.list_artifacts(run_id, folder) if not a.is_dir)
    return names


def _copy(client: MlflowClient, run_id: str, artifact: str, target: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="codekiln-report-") as tmp:
        local = client.download_artifacts(run_id, artifact, tmp)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)
    return target


def _eval_row(client: MlflowClient, step: StepOutcome) -> dict[str, Any] | None:
    """An eval run's pass@k (metrics ``pass_at_K``) and benchmark (its ``benchmark`` param)."""
    assert step.run_id is not None
    data = client.get_run(step.run_id).data
    passk = {f"pass@{k[len('pass_at_'):]}": float(v) for k, v in data.metrics.items()
             if k.startswith("pass_at_") and k[len("pass_at_"):].isdigit()}
    if not passk:
        return None
    return {"label": step.name, "benchmark": data.params.get("benchmark", step.name),
            "pass_at_k": passk}
