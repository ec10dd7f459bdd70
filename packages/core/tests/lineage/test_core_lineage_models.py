"""``models:/NAME/VERSION`` fetched from a real MLflow store into a reusable directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.lineage import lineage_run
from codekiln_core.lineage.models import cache_dir, download_model


def _checkpoint(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "model.safetensors").write_bytes(b"\0" * 64)
    return root


def test_registered_model_is_downloaded_once_as_its_hf_directory(mlflow_store: str,
                                                                 tmp_path: Path) -> None:
    with lineage_run("train", config={}) as run:
        uri = run.log_model(_checkpoint(tmp_path / "ckpt"), name="tiny", register_as="tiny")
    assert uri == "models:/tiny/1"
    dest = cache_dir(uri, tmp_path / "cache")
    assert dest.parent == tmp_path / "cache" and dest.name.startswith("models_")

    model = download_model(uri, dest)
    assert model.is_relative_to(dest)
    assert (model / "model.safetensors").read_bytes() == b"\0" * 64
    (model / "model.safetensors").write_bytes(b"kept")  # a second call reuses the download
    assert download_model(uri, dest) == model
    assert (model / "model.safetensors").read_bytes() == b"kept"
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no temp left behind


def test_unknown_model_is_a_one_line_error_and_leaves_no_cache(mlflow_store: str,
                                                               tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "missing"
    with pytest.raises(ConfigError, match=r"models:/missing/1: cannot download it from the "
                                          r"MLflow store sqlite:"):
        download_model("models:/missing/1", dest)
    assert not dest.exists() and not list((tmp_path / "cache").iterdir())


def test_a_non_registry_uri_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a registered model"):
        download_model("runs:/abc/model", tmp_path / "x")


def test_latest_means_the_highest_version_now(mlflow_store: str, tmp_path: Path) -> None:
    from codekiln_core.lineage.resolve import concrete_model_uri
    from codekiln_core.lineage.store import connect

    with lineage_run("train", config={}) as first:
        first.log_model(_checkpoint(tmp_path / "a"), name="tiny", register_as="growing")
    assert concrete_model_uri("models:/growing/latest") == "models:/growing/1"
    old_cache = cache_dir("models:/growing/latest", tmp_path / "cache")
    with lineage_run("train", config={}) as second:
        second.log_model(_checkpoint(tmp_path / "b"), name="tiny", register_as="growing")
    assert concrete_model_uri("models:/growing/latest") == "models:/growing/2"
    assert cache_dir("models:/growing/latest", tmp_path / "cache") != old_cache
    model = download_model("models:/growing/latest", tmp_path / "dl")
    assert (model / "config.json").is_file()
    from codekiln_core.lineage.resolve import run_id_of

    client, _ = connect()
    assert run_id_of(client, "models:/growing/latest") == second.run_id
    with pytest.raises(Exception, match="no version of 'nothing' is registered"):
        concrete_model_uri("models:/nothing/latest")


def test_a_resumed_run_logging_the_same_model_again_keeps_one_version(
        mlflow_store: str, tmp_path: Path) -> None:
    """Killed after registering, before its caller saw it finish: the resumed run (the same
    MLflow run) logs the same files again and gets the same model and version back; other
    files are a new version."""
    from mlflow import MlflowClient

    model = _checkpoint(tmp_path / "ckpt")
    with lineage_run("train", config={}) as run:
        first = run.log_model(model, name="tiny", register_as="once")
    with lineage_run("train", config={}, resume_run_id=run.run_id) as resumed:
        assert resumed.run_id == run.run_id
        again = resumed.log_model(model, name="tiny", register_as="once")
        (model / "model.safetensors").write_bytes(b"\1" * 64)
        changed = resumed.log_model(model, name="tiny", register_as="once")
    assert (first, again, changed) == ("models:/once/1", "models:/once/1", "models:/once/2")
    client = MlflowClient(tracking_uri=mlflow_store)
    experiment = client.get_run(run.run_id).info.experiment_id
    logged = client.search_logged_models([experiment], f"source_run_id = '{run.run_id}'")
    assert len(logged) == 2
