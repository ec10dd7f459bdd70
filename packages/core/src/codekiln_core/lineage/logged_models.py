"""Logging a model once per run, however often the run is resumed.

A resumed run (``--resume`` continues the same MLflow run) that already logged and
registered its final model — it was killed after registering, before its caller saw it
finish — must not register a second version of the same weights. The logged model carries
the digest of its directory; a later ``log_model`` of the same run, name and digest reuses
it, and its registered version when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.lineage.refs import digest_path

if TYPE_CHECKING:
    from mlflow import MlflowClient

TAG_DIGEST = "codekiln.digest"


def log_model_once(client: MlflowClient, run_id: str, model_dir: Path, *, name: str,
                   register_as: str | None) -> tuple[str, str]:
    """Log ``model_dir`` as a logged model of ``run_id`` (registered as ``register_as``),
    or find the one this run logged of the same files before; returns (model id, uri)."""
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus

    experiment_id = client.get_run(run_id).info.experiment_id
    digest = digest_path(model_dir)
    model_id = _earlier_model(client, experiment_id, run_id, name, digest)
    if model_id is None:
        model = client.create_logged_model(experiment_id, name=name, source_run_id=run_id,
                                           tags={TAG_DIGEST: digest})
        client.log_model_artifacts(model.model_id, str(model_dir))
        client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
        client.log_outputs(run_id, [LoggedModelOutput(model.model_id, 0)])
        model_id = model.model_id
    uri = f"models:/{model_id}"
    if register_as:
        version = _registered_version(client, register_as, run_id, uri)
        if version is None:
            import mlflow

            version = str(mlflow.register_model(uri, register_as).version)
        uri = f"models:/{register_as}/{version}"
    return model_id, uri


def _earlier_model(client: MlflowClient, experiment_id: str, run_id: str, name: str,
                   digest: str) -> str | None:
    """A finished logged model of this run with this name and content, if any."""
    from mlflow.entities import LoggedModelStatus

    found = client.search_logged_models(
        [experiment_id], filter_string=f"source_run_id = '{run_id}' AND name = '{name}' "
        f"AND tags.`{TAG_DIGEST}` = '{digest}'")
    ready = [m.model_id for m in found if m.status == LoggedModelStatus.READY]
    return ready[0] if ready else None


def _registered_version(client: MlflowClient, register_as: str, run_id: str,
                        source: str) -> str | None:
    """The version of ``register_as`` this run already registered from ``source``."""
    versions = client.search_model_versions(f"name = '{register_as}' AND run_id = '{run_id}'")
    matching = sorted(int(v.version) for v in versions if v.source == source)
    return str(matching[0]) if matching else None
