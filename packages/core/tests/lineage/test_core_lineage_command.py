"""lineage_command: resolved config, the recipe as written, inputs by path, the UI's view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from codekiln_core.cli.app import main
from codekiln_core.lineage.command import lineage_command, resolved_config
from codekiln_core.lineage.links import registered_models_page, run_page
from codekiln_core.lineage.store import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG


class _Settings(BaseModel):
    data: Path
    epochs: int = 1


def test_resolved_config_makes_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    out = resolved_config(_Settings(data=Path("rel/labels")))
    assert out == {"data": str(tmp_path / "rel" / "labels"), "epochs": 1}


def test_command_records_resolved_config_recipe_and_inputs(
    mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("data: rel/labels  # as written\n", encoding="utf-8")
    source = tmp_path / "rel" / "labels"
    source.mkdir(parents=True)
    (source / "a.jsonl").write_text("{}\n", encoding="utf-8")
    with lineage_command("curate.demo") as upstream:
        pass
    with lineage_command("train.demo", config=_Settings(data=Path("rel/labels")),
                         inputs=[Path("rel/labels"), f"runs:/{upstream.run_id}"],
                         recipe_file=recipe) as run:
        assert run.run_id
    from mlflow import MlflowClient

    client = MlflowClient()
    recorded = client.get_run(run.run_id)
    assert recorded.data.params["data"] == str(source)
    sources = {d.dataset.source for d in recorded.inputs.dataset_inputs}
    assert any(str(source) in text for text in sources)
    assert recorded.data.tags["codekiln.upstream_runs"] == upstream.run_id
    config_path = client.download_artifacts(run.run_id, "config.json", str(tmp_path))
    assert json.loads(Path(config_path).read_text())["data"] == str(source)
    written = client.download_artifacts(run.run_id, "recipe/recipe.yaml", str(tmp_path / "dl"))
    assert Path(written).read_text() == recipe.read_text()


def test_codekiln_experiment_is_marked_and_linked_as_model_training(mlflow_store: str):
    with lineage_command("x.y", config={"a": 1}) as run:
        pass
    from mlflow import MlflowClient

    experiment = MlflowClient().get_experiment_by_name("codekiln")
    assert experiment is not None
    assert experiment.tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND == "custom_model_development"
    # MLflow 3.17's UI picks its view from the address: every link asks for model training
    assert run.run_id and run_page(experiment.experiment_id, run.run_id).endswith(
        "?workflowType=machine_learning")
    assert registered_models_page() == "#/models?workflowType=machine_learning"


def test_disabled_command_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with lineage_command("x.y", config={"a": 1}, inputs=[tmp_path], enabled=False) as run:
        assert run.run_id is None
    assert not (tmp_path / ".codekiln").exists()


def test_show_without_a_store_says_nothing_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["lineage", "show", "0" * 32]) == 2
    captured = capsys.readouterr()
    assert not (tmp_path / ".codekiln").exists(), "a read must not create a store"
    assert captured.err.startswith("error: cannot show") and "nothing recorded yet" in captured.err
    assert "INFO" not in captured.err + captured.out and captured.err.count("\n") == 1
