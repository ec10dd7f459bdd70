"""MODEL as ``models:/NAME/VERSION``: fetched from the MLflow store, served, and recorded
as the serve run's input (linked to the run that logged the model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codekiln_serve.model_source import resolve_model

pytestmark = pytest.mark.slow


def test_registered_model_is_fetched_and_recorded(tiny_model_dir: Path, mlflow_store: str,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient

    from codekiln_core.lineage import lineage_run
    from codekiln_serve import server as server_mod
    from codekiln_serve.settings import ServeSettings

    with lineage_run("train", config={}) as run:
        uri = run.log_model(tiny_model_dir, name="tiny", register_as="tiny-coder")
    assert uri == "models:/tiny-coder/1"
    source = resolve_model(uri, cache=tmp_path / "cache")
    assert source.kind == "registered" and source.path is not None
    assert (source.path / "config.json").is_file() and (source.path / "tokenizer.json").is_file()

    served: dict[str, Any] = {}
    monkeypatch.setattr(server_mod, "run_uvicorn",
                        lambda built, settings, on_ready=None: served.update(names=built.names))
    monkeypatch.setattr(server_mod, "resolve_model", lambda ref: resolve_model(
        ref, cache=tmp_path / "cache"))
    server_mod.serve(ServeSettings(model=uri, engine="transformers", lineage=True))
    assert served["names"] == ["tiny-coder-1", uri]
    client = MlflowClient(tracking_uri=mlflow_store)
    runs = client.search_runs([client.get_experiment_by_name("codekiln").experiment_id],
                              filter_string="tags.`codekiln.command` = 'serve'")
    assert len(runs) == 1
    inputs = runs[0].inputs.dataset_inputs
    assert inputs and inputs[0].dataset.name == "model"
    assert runs[0].data.tags["codekiln.upstream_runs"] == run.run_id
