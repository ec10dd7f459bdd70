"""Turn what users type (run ids, runs:/, models:/) into MLflow run ids."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from codekiln_core.errors import LineageError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_FORMS = ("a run id, runs:/RUN_ID, models:/NAME/VERSION (or latest), models:/NAME@ALIAS or "
          "models:/MODEL_ID")


def run_id_of(client: MlflowClient, ref: str) -> str:
    """The run that produced ``ref``; a one-line LineageError when it cannot be found."""
    from mlflow.exceptions import MlflowException

    try:
        if _RUN_ID.match(ref):
            return str(client.get_run(ref).info.run_id)
        if ref.startswith("runs:/"):
            return str(client.get_run(ref.removeprefix("runs:/").split("/")[0]).info.run_id)
        if ref.startswith("models:/"):
            return _model_run_id(client, ref.removeprefix("models:/"))
    except MlflowException as exc:
        raise LineageError(f"{ref!r} is not in the store ({_store()}): {exc.message}") from exc
    raise LineageError(f"cannot read {ref!r}; expected {_FORMS}")


def _model_run_id(client: MlflowClient, spec: str) -> str:
    version = _version(client, spec)
    if version is None:
        return _logged_model_run(client, spec)
    if version.run_id:
        return str(version.run_id)
    return _logged_model_run(client, version_model_id(version) or "")


def _version(client: MlflowClient, spec: str) -> ModelVersion | None:
    """The registered version ``NAME/VERSION`` (or ``latest``) or ``NAME@ALIAS`` names; None
    for a bare logged model id."""
    if "@" in spec:
        name, alias = spec.split("@", 1)
        return client.get_model_version_by_alias(name, alias)
    if "/" in spec:
        name, number = spec.split("/", 1)
        return client.get_model_version(name, _version_number(client, name, number))
    return None


def model_id_of(client: MlflowClient, ref: str) -> str | None:
    """The logged model behind a ``models:/`` reference (None for a version registered from
    a run's artifacts, which has no logged model)."""
    spec = ref.removeprefix("models:/")
    version = _version(client, spec)
    return spec if version is None else version_model_id(version)


def version_model_id(version: ModelVersion) -> str | None:
    """``ModelVersion.model_id`` can come back empty: the source ``models:/ID`` names it too."""
    if version.model_id:
        return str(version.model_id)
    source = str(version.source or "")
    return source.removeprefix("models:/") if source.startswith("models:/m-") else None


def _version_number(client: MlflowClient, name: str, number: str) -> str:
    """``latest`` -> the highest registered version of ``name``; a number stays as it is."""
    if number != "latest":
        return number
    versions = [int(v.version) for v in client.search_model_versions(f"name = '{name}'")]
    if not versions:
        raise LineageError(f"models:/{name}/latest: no version of {name!r} is registered in "
                           f"the store ({_store()})")
    return str(max(versions))


def concrete_model_uri(uri: str) -> str:
    """``models:/NAME/latest`` as the version it means now (``models:/NAME/3``); else ``uri``."""
    if not (uri.startswith("models:/") and uri.endswith("/latest")):
        return uri
    from codekiln_core.lineage.store import connect

    client, _ = connect()
    name = uri.removeprefix("models:/").removesuffix("/latest")
    return f"models:/{name}/{_version_number(client, name, 'latest')}"


def _logged_model_run(client: MlflowClient, model_id: str) -> str:
    run_id = client.get_logged_model(model_id).source_run_id
    if not run_id:
        raise LineageError(
            f"logged model {model_id!r} has no source run; it was not logged by codekiln"
        )
    return str(run_id)


def _store() -> str:
    from codekiln_core.lineage.store import tracking_uri

    return tracking_uri()
