"""`codekiln eval` through the real CLI entry point, and an eval run in the model's lineage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codekiln_core.cli.app import main


def test_eval_list_names_every_runnable_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "list"]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert {"humaneval", "humaneval-plus", "mbpp", "mbpp-plus", "cruxeval-o",
            "cruxeval-i"} <= names


def test_eval_list_reports_a_broken_plugin_once(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    site = tmp_path / "site"
    info = site / "codekiln_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "codekiln_broken_eval.py").write_text("raise RuntimeError('boom')\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: codekiln-broken\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[codekiln]\nbroken = codekiln_broken_eval\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert main(["eval", "list"]) == 0
    err = capsys.readouterr().err
    assert err.count("plugin 'broken'") == 1, err


def test_unknown_benchmark_is_one_line_error_listing_known_ones(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["eval", "run", "-b", "humaneva", "-m", str(tmp_path), "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "humaneva" in err and "humaneval-plus" in err and "mbpp" in err


def test_missing_data_path_is_one_line_error(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    code = main(["eval", "run", "-b", "humaneval", "-m", str(tmp_path), "--data", str(missing),
                 "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert str(missing) in err


def test_model_that_is_no_directory_is_one_line_error(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    code = main(["eval", "run", "-b", "humaneval", "-m", str(tmp_path / "ckpt"),
                 "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "ckpt" in err, err


def test_bad_option_value_is_one_line_error_naming_allowed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["eval", "run", "-b", "humaneval", "-m", str(tmp_path), "--mode", "poem",
                 "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "mode" in err and "poem" in err and "chat" in err


@pytest.mark.slow
@pytest.mark.sandbox
def test_registered_model_eval_through_cli_is_in_its_lineage(
        tiny_model_dir: Path, mlflow_store: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from codekiln_core.lineage import lineage_run
    from codekiln_core.lineage.chain import walk_chain

    monkeypatch.chdir(tmp_path)  # the models:/ download cache lives under ./.codekiln
    monkeypatch.delenv("CODEKILN_BENCHMARK_DATA", raising=False)  # no --data: the bundled copy
    model_dir = tmp_path / "ckpt"
    shutil.copytree(tiny_model_dir, model_dir)
    with lineage_run("train.run", config={"steps": 0}) as train:
        uri = train.log_model(model_dir, name="tiny", register_as="tiny")
    assert uri == "models:/tiny/1"

    out = tmp_path / "run"
    code = main(["eval", "run", "-b", "humaneval", "-m", uri,
                 "--limit", "2", "-n", "1", "--max-tokens", "8", "--mode", "completion",
                 "--calibrate", "probe", "--workers", "1", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_tasks_complete"] == 2 and summary["model"] == uri
    assert summary["mlflow_run_id"] in captured.out
    downloaded = list((tmp_path / ".codekiln" / "models").rglob("config.json"))
    assert downloaded, "the registered model was not fetched from the store"

    chain = walk_chain(uri)
    assert chain.runs[0].run_id == train.run_id
    assert [(r.command, r.run_id) for r in chain.downstream] == [
        ("eval.run", summary["mlflow_run_id"])]

    assert main(["lineage", "show", uri]) == 0
    shown = capsys.readouterr().out
    used_by = shown.split("used by:", 1)[1]
    assert "eval.run" in used_by and summary["mlflow_run_id"] in used_by

    # The pass@k bars are an artifact of the eval run itself, and the run names its
    # benchmark: the pipeline report groups every eval step's bars by it.
    from mlflow import MlflowClient

    from codekiln_core.testing import png_size

    client = MlflowClient()
    run_id = summary["mlflow_run_id"]
    assert "eval/passk.png" in {a.path for a in client.list_artifacts(run_id, "eval")}
    assert png_size(Path(client.download_artifacts(run_id, "eval/passk.png",
                                                   str(tmp_path))))[0] >= 300
    logged = client.get_run(run_id).data
    assert logged.params["benchmark"] == "humaneval"
    assert logged.metrics["pass_at_1"] == summary["pass_at_k"]["pass@1"]
