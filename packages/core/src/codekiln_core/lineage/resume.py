"""``--resume`` continues the same MLflow run: one unbroken curve across kills.

A resumable command notes its run in its output as it starts (the same marker a finished
output carries, with ``"status": "running"``). A later ``--resume`` finds the run there and
carries on logging into it, so the killed process's steps and the resumed ones are one run
and one curve. When that run cannot be continued (another store, deleted) a new run starts
and the old one, if it can be reached, is set KILLED rather than left RUNNING forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.lineage.refs import read_marker, write_marker
from codekiln_core.lineage.store import tracking_uri

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from codekiln_core.lineage.run import LineageRun

TAG_RESUMES = "codekiln.resumes"
#: Curves drawn when the run ends start from what the run logged before the resume.
CURVE_KEYS = ("loss", "train_loss", "val_loss", "lr", "reward_mean")


def earlier_run_id(output: Path | None) -> str | None:
    """The run noted in ``output`` by an earlier (interrupted) run of this command."""
    if output is None or not output.exists():
        return None
    marker = read_marker(output)
    if not marker or marker.get("tracking_uri") != tracking_uri():
        return None
    run_id = marker.get("run_id")
    return str(run_id) if run_id else None


def note_running(output: Path, kind: str, run: LineageRun) -> None:
    """Write the "running" marker into (or beside) ``output`` as the run starts."""
    if not run.enabled or run.run_id is None:
        return
    if kind == "dir":
        output.mkdir(parents=True, exist_ok=True)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
    if kind == "file" and output.is_dir():
        return
    write_marker(output, {"run_id": run.run_id, "tracking_uri": tracking_uri(),
                          "status": "running", "command": run.command})


def reopen(client: MlflowClient, run_id: str, experiment_id: str) -> bool:
    """Set an interrupted run of this experiment RUNNING again; False when it cannot be."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_run(run_id)
    except MlflowException:
        return False
    if found.info.experiment_id != experiment_id or found.info.lifecycle_stage != "active":
        return False
    count = int(found.data.tags.get(TAG_RESUMES, "0")) + 1
    client.update_run(run_id, status="RUNNING")
    client.set_tag(run_id, TAG_RESUMES, str(count))
    return True


def mark_killed(client: MlflowClient, run_id: str) -> None:
    """Best effort: an unresumable interrupted run is not left RUNNING."""
    from mlflow.exceptions import MlflowException

    try:
        if client.get_run(run_id).info.status == "RUNNING":
            client.set_terminated(run_id, "KILLED")
    except MlflowException:
        pass


def seed_curves(client: MlflowClient, run: LineageRun) -> None:
    """Load what the run logged before, so the curves drawn at its end are whole."""
    assert run.run_id is not None
    for key in CURVE_KEYS:
        for metric in client.get_metric_history(run.run_id, key):
            run.curves.add({key: metric.value}, metric.step)
