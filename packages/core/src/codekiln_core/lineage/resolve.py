"""Turn what users type (run ids, runs:/, models:/) into MLflow run ids."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from codekiln_core.errors import LineageError

if TYPE_CHECKING:
    from mlflow import MlflowClient

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
    if "@" in spec:
        name, alias = spec.split("@", 1)
        version = client.get_model_version_by_alias(name, alias)
    elif "/" in spec:
        name, number = spec.split("/", 1)
        version = client.get_model_version(name, _version_number(client, name, number))
    else:
        return _logged_model_run(client, spec)
    if version.run_id:
        return str(version.run_id)
    model_id = version.model_id or (version.source or "").removeprefix("models:/")
    return _logged_model_run(client, model_id)


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
