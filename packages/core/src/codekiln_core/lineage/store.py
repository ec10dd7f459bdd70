"""Where lineage lives: an embedded SQLite store by default, any MLflow server on request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Default store, relative to the working directory: ``.codekiln/mlflow.db`` + ``artifacts/``.
DEFAULT_STORE_DIR = Path(".codekiln")
EXPERIMENT_NAME = "codekiln"
ARTIFACT_ROOT_ENV = "CODEKILN_ARTIFACT_ROOT"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the embedded SQLite file under the cwd."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    return f"sqlite:///{(DEFAULT_STORE_DIR / 'mlflow.db').resolve()}"


def artifact_root() -> str:
    root = os.environ.get(ARTIFACT_ROOT_ENV) or str(DEFAULT_STORE_DIR / "artifacts")
    return Path(root).resolve().as_uri()


def quiet_mlflow() -> None:
    """Offline-friendly defaults (no telemetry), set before mlflow is imported."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")


def connect() -> tuple[MlflowClient, str]:
    """An MLflow client on the configured store and the id of the codekiln experiment."""
    quiet_mlflow()
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is not None:
        return client, experiment.experiment_id
    artifacts = None if uri.startswith(("http://", "https://", "databricks")) else artifact_root()
    return client, client.create_experiment(EXPERIMENT_NAME, artifact_location=artifacts)
