"""`codekiln curate run|report`: one-line errors before any work, lineage, summary tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codekiln_core.cli.app import main


def write(tmp: Path, data: dict) -> Path:
    path = tmp / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    return err


def test_missing_path_fails_before_any_work(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    recipe = write(tmp_path, {"inputs": [{"kind": "dir", "path": str(tmp_path / "nope")}],
                              "output": str(out)})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert "inputs[0].path" in err and "does not exist" in err
    assert not out.exists()


def test_unknown_stage_and_bad_gate_fail_before_any_work(
        tmp_path: Path, tiny_code_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}], "output": str(out)}
    recipe = write(tmp_path, {**base, "stages": [{"name": "no-such-stage"}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert "unknown stage 'no-such-stage'" in err and "exact-dedup" in err
    recipe = write(tmp_path, {**base, "stages": [
        {"name": "exact-dedup", "gates": [{"signal": "nonsense", "min": 1}]}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert "gate on unknown signal 'nonsense'" in err
    recipe = write(tmp_path, {**base, "stages": [{"name": "near-dedup",
                                                   "options": {"bands_typo": 3}}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert "near-dedup" in err and "bands_typo" in err
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--set", "workerz=2"])
    assert "unknown key 'workerz'" in err
    assert not out.exists()


def test_run_logs_lineage_and_report_reads_it_back(
        tmp_path: Path, tiny_code_corpus: Path, mlflow_store: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    recipe = write(tmp_path, {"name": "lineage-test", "output": str(out),
                              "inputs": [{"kind": "dir", "path": str(tiny_code_corpus),
                                          "name": "tiny"}],
                              "stages": [{"name": "exact-dedup"}]})
    assert main(["curate", "run", str(recipe), "--quiet"]) == 0
    printed = capsys.readouterr().out
    run_id = next(line.split()[-1] for line in printed.splitlines()
                  if line.startswith("mlflow run:"))
    assert "exact-dedup" in printed and "total" in printed
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    names = {d.dataset.name for d in run.inputs.dataset_inputs}
    assert {"tiny", "curated"} <= names
    artifacts = {a.path for a in client.list_artifacts(run_id, "report")}
    assert {"report/report.md", "report/report.html", "report/summary.json"} <= artifacts
    assert run.data.metrics["docs_kept"] == 9.0
    assert main(["curate", "report", run_id]) == 0
    from_run = capsys.readouterr().out
    assert main(["curate", "report", str(out)]) == 0
    assert capsys.readouterr().out == from_run and "exact-dedup" in from_run
    err = one_line_error(capsys, ["curate", "report", "not-a-run-or-dir"])
    assert "not-a-run-or-dir" in err


def test_recorded_config_is_the_resolved_recipe_and_the_file_as_written(
        tmp_path: Path, tiny_code_corpus: Path, mlflow_store: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    monkeypatch.chdir(tiny_code_corpus.parent)
    recipe = write(tmp_path, {"output": "out", "stages": [{"name": "exact-dedup"}],
                              "inputs": [{"kind": "dir", "path": "${cwd}/corpus"},
                                         {"kind": "dir", "path": "corpus/calc", "name": "c"}]})
    assert main(["curate", "run", str(recipe), "--quiet"]) == 0
    run_id = next(line.split()[-1] for line in capsys.readouterr().out.splitlines()
                  if line.startswith("mlflow run:"))
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store)
    params = client.get_run(run_id).data.params
    assert json.loads(params["inputs"])[0]["path"] == str(tiny_code_corpus)
    assert json.loads(params["inputs"])[1]["path"] == str(tiny_code_corpus / "calc")
    assert params["output"] == str(tiny_code_corpus.parent / "out")
    config = json.loads(Path(client.download_artifacts(run_id, "config.json",
                                                       str(tmp_path))).read_text())
    assert "${" not in json.dumps(config) and config["output"].startswith("/")
    written = client.download_artifacts(run_id, "recipe/recipe.yaml", str(tmp_path / "dl"))
    assert Path(written).read_text() == recipe.read_text()  # the file as the user wrote it


def test_default_recipe_is_embedded_and_matches_the_repo_copy() -> None:
    from codekiln_curate.recipe import default_recipe_text, load_curate_recipe

    repo_copy = Path(__file__).resolve().parents[3] / "recipes" / "curate-default.yaml"
    if repo_copy.is_file():
        assert repo_copy.read_text() == default_recipe_text()
    recipe = load_curate_recipe(None, ["workers=1"])
    assert recipe.workers == 1 and recipe.inputs[0].path == "${stdlib}"


def test_every_recipe_field_has_a_description() -> None:
    from pydantic import BaseModel

    from codekiln_curate import recipe as module

    models = [v for v in vars(module).values()
              if isinstance(v, type) and issubclass(v, BaseModel)
              and v.__module__ == module.__name__]
    assert len(models) >= 6
    for model in models:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
