"""The pipeline's parent MLflow run: created once, reused by a rerun after an interruption."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from codekiln_core.lineage.refs import git_sha
from codekiln_core.lineage.run import TAG_COMMAND, TAG_GIT_SHA, TAG_VERSIONS, flatten
from codekiln_core.lineage.store import connect
from codekiln_core.pipeline.state import PipelineState
from codekiln_core.versions import installed_versions

if TYPE_CHECKING:
    from mlflow import MlflowClient

COMMAND = "run"
TAG_PIPELINE = "codekiln.pipeline"
#: JSON {step name: run id} of every step the parent covers, ran or skipped.
TAG_STEP_RUNS = "codekiln.pipeline.step_runs"


def open_parent(state: PipelineState, name: str,
                config: dict[str, Any]) -> tuple[MlflowClient, str, bool]:
    """The parent run id; an interrupted earlier parent (not FINISHED) is resumed.

    Returns (client, run id, resumed).
    """
    client, experiment_id = connect()
    previous = state.pipeline().get("parent_run_id")
    if isinstance(previous, str) and previous:
        from mlflow.exceptions import MlflowException

        try:
            run = client.get_run(previous)
        except MlflowException:
            run = None
        if run is not None and run.info.status != "FINISHED":
            client.update_run(previous, status="RUNNING")
            return client, previous, True
    tags = {"mlflow.runName": name, TAG_COMMAND: COMMAND, TAG_PIPELINE: name,
            TAG_VERSIONS: json.dumps(installed_versions())}
    sha = git_sha()
    if sha:
        tags[TAG_GIT_SHA] = sha
    run_id = str(client.create_run(experiment_id, tags=tags, run_name=name).info.run_id)
    client.log_dict(run_id, config, "pipeline.json")
    from mlflow.entities import Param

    params = [Param(k, str(v)[:6000]) for k, v in sorted(flatten(config).items())]
    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start:start + 100])
    state.save_pipeline({"parent_run_id": run_id, "name": name})
    return client, run_id, False


def step_runs(client: MlflowClient, parent_run_id: str, step: str, where: str = "",
              newest_only: bool = False) -> list[Any]:
    """The runs a step's command logged under the parent (tagged by lineage_run), newest
    first; ``where`` adds MLflow filter clauses (``attributes.status = 'RUNNING'``)."""
    from codekiln_core.lineage.run import TAG_PIPELINE_STEP

    experiment_id = client.get_run(parent_run_id).info.experiment_id
    query = (f"tags.mlflow.parentRunId = '{parent_run_id}' "
             f"and tags.`{TAG_PIPELINE_STEP}` = '{step}'" + (f" and {where}" if where else ""))
    return list(client.search_runs([experiment_id], query,
                                   order_by=["attributes.start_time DESC"],
                                   max_results=1 if newest_only else 1000))


def find_step_run(client: MlflowClient, parent_run_id: str, step: str) -> str | None:
    """The newest run a step's command logged under the parent."""
    found = step_runs(client, parent_run_id, step, newest_only=True)
    return str(found[0].info.run_id) if found else None


def finished_since(client: MlflowClient, parent_run_id: str, step: str,
                   since: float) -> str | None:
    """The run of ``step`` under the parent that started after ``since`` (epoch seconds, when
    the runner launched the try) and FINISHED: a try killed after its command had ended."""
    found = step_runs(client, parent_run_id, step, newest_only=True,
                      where=f"attributes.status = 'FINISHED' "
                            f"and attributes.start_time >= {int(since * 1000)}")
    return str(found[0].info.run_id) if found else None


def run_metrics(client: MlflowClient, run_id: str | None) -> dict[str, float]:
    if not run_id:
        return {}
    from mlflow.exceptions import MlflowException

    try:
        return {k: float(v) for k, v in client.get_run(run_id).data.metrics.items()}
    except MlflowException:
        return {}


def mark_abandoned(client: MlflowClient, parent_run_id: str, step: str) -> int:
    """Runs of ``step`` left RUNNING by a killed attempt become KILLED (a rerun replaces them)."""
    found = step_runs(client, parent_run_id, step, where="attributes.status = 'RUNNING'")
    for run in found:
        client.set_terminated(run.info.run_id, "KILLED")
    return len(found)
