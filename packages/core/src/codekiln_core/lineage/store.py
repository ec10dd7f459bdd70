"""Where lineage lives: an embedded SQLite store by default, any MLflow server on request.

:func:`connect` is the one way in: it creates and migrates a fresh SQLite file under a file
lock, because MLflow's own first-use migration breaks when several processes (parallel
commands, training ranks) open a store that does not exist yet.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.errors import LineageError
from codekiln_core.fsio import locked

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Default store, relative to the working directory: ``.codekiln/mlflow.db`` + ``artifacts/``.
DEFAULT_STORE_DIR = Path(".codekiln")
EXPERIMENT_NAME = "codekiln"
ARTIFACT_ROOT_ENV = "CODEKILN_ARTIFACT_ROOT"
#: Marks the experiment as model training (``custom_model_development``, the UI's "Machine
#: learning"; ``finetuning`` is not offered by its selector). MLflow builds whose UI has no
#: per-browser GenAI / Model training switch pick the view by it; 3.17's UI reads the switch
#: or ``workflowType`` in the address instead, which codekiln's links carry (links.py).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the embedded SQLite file under the cwd."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    return f"sqlite:///{(DEFAULT_STORE_DIR / 'mlflow.db').resolve()}"


def artifact_root() -> str:
    root = os.environ.get(ARTIFACT_ROOT_ENV) or str(DEFAULT_STORE_DIR / "artifacts")
    return Path(root).resolve().as_uri()


def local_store_path() -> Path | None:
    """The SQLite file behind the tracking URI, or None for a server or other store."""
    uri = tracking_uri()
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def store_exists() -> bool:
    """False only when the store is a local SQLite file that was never created."""
    path = local_store_path()
    return path is None or path.is_file()


def quiet_mlflow() -> None:
    """Offline-friendly defaults (no telemetry), set before mlflow is imported."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    # Report files are small: a progress bar per download is noise in a pipeline's log.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def connect(*, create: bool = True) -> tuple[MlflowClient, str]:
    """An MLflow client on the configured store and the id of the codekiln experiment.

    With ``create=False`` (readers such as ``lineage show``) a missing store or experiment is a
    one-line :class:`LineageError` saying nothing was recorded, and nothing is created. Also
    makes the store mlflow's current tracking URI, for the fluent API.
    """
    if not create and not store_exists():
        raise _nothing_recorded()
    quiet_mlflow()
    uri = tracking_uri()
    from codekiln_core.extras import require

    require("mlflow", "lineage (the MLflow store)")
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    with creation_lock():
        # The client's first store access creates and migrates a fresh SQLite file.
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
        if experiment is None:
            if not create:
                raise _nothing_recorded()
            return client, _create_experiment(client, uri)
    if EXPERIMENT_KIND_TAG not in experiment.tags:  # stores made before the tag existed
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return client, experiment.experiment_id


@contextmanager
def creation_lock() -> Iterator[None]:
    """Hold an exclusive lock beside a local SQLite store (``mlflow.db.lock``); else nothing.

    A server (or any non-file store) serialises its own writes, so only files need it.
    """
    with store_lock("lock"):
        yield


@contextmanager
def store_lock(suffix: str) -> Iterator[None]:
    """An exclusive lock in the file ``mlflow.db.<suffix>`` beside a local SQLite store
    (nothing for a server): one writer at a time for what is read, merged and written back."""
    path = local_store_path()
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = open(path.with_name(f"{path.name}.{suffix}"), "a+b")  # noqa: SIM115
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS) or not path.is_file():
            raise
        yield  # a store we may only read (a read-only copy): there is nothing to create
        return
    with handle, locked(handle):
        yield


def _create_experiment(client: MlflowClient, uri: str) -> str:
    """Create the codekiln experiment; another process creating it first is not an error."""
    from mlflow.exceptions import MlflowException

    artifacts = None if uri.startswith(("http://", "https://", "databricks")) else artifact_root()
    try:
        return str(client.create_experiment(EXPERIMENT_NAME, artifact_location=artifacts,
                                            tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}))
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        existing = client.get_experiment_by_name(EXPERIMENT_NAME)
        if existing is None:
            raise
        return str(existing.experiment_id)


def _nothing_recorded() -> LineageError:
    return LineageError(
        f"nothing recorded yet: no codekiln lineage in {tracking_uri()}; run a codekiln "
        "command without --no-lineage first, or set MLFLOW_TRACKING_URI to your store"
    )
