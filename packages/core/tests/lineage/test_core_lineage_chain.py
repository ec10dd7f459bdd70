"""A raw -> dataset -> model chain through a real MLflow SQLite store, walked back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import LineageError
from codekiln_core.lineage import InputRef, lineage_run, read_marker
from codekiln_core.lineage.chain import walk_chain
from codekiln_core.testing import free_port


def _make_chain(tmp_path: Path, corpus: Path) -> dict[str, str]:
    """Three commands, each consuming the previous one's output by path only."""
    dataset = tmp_path / "curated"
    with lineage_run("curate.run", config={"workers": 2, "dedup": {"threshold": 0.8}},
                     inputs=[InputRef.from_path(corpus, name="raw-code")]) as curate:
        dataset.mkdir()
        (dataset / "part-0.jsonl").write_text('{"id": "a"}\n', encoding="utf-8")
        curate.log_metrics({"kept": 1, "dropped": 8})
        curate.log_output(dataset, name="curated")
    model_dir = tmp_path / "model"
    with lineage_run("train.scorer", config={"preset": "tiny"},
                     inputs=[InputRef.from_path(dataset)]) as train:
        model_dir.mkdir()
        (model_dir / "config.json").write_text("{}", encoding="utf-8")
        model_uri = train.log_model(model_dir, name="scorer", register_as="codekiln-scorer")
    with lineage_run("eval.run", inputs=[InputRef(name="model", source=model_uri)]) as evaluation:
        evaluation.log_metrics({"pass_at_1": 0.5})
    assert curate.run_id and train.run_id and evaluation.run_id
    return {"curate": curate.run_id, "train": train.run_id, "eval": evaluation.run_id,
            "model": model_uri}


@pytest.fixture
def chain(mlflow_store: str, tmp_path: Path, tiny_code_corpus: Path) -> dict[str, str]:
    return _make_chain(tmp_path, tiny_code_corpus)


def test_outputs_carry_a_marker_naming_their_run(chain: dict[str, str], tmp_path: Path):
    marker = read_marker(tmp_path / "curated")
    assert marker is not None and marker["run_id"] == chain["curate"]
    assert chain["model"] == "models:/codekiln-scorer/1"


def test_show_walks_a_registered_model_back_to_the_raw_input(
    chain: dict[str, str], tiny_code_corpus: Path
):
    walked = walk_chain(chain["model"])
    assert [run.command for run in walked.runs] == ["train.scorer", "curate.run"]
    assert [run.run_id for run in walked.runs] == [chain["train"], chain["curate"]]
    raw = walked.raw_inputs
    assert [(i.name, i.source) for i in raw] == [("raw-code", str(tiny_code_corpus.resolve()))]
    assert walked.runs[0].inputs[0].upstream_run_id == chain["curate"]
    assert walked.runs[0].models, "the training run lists its logged model"
    assert [r.run_id for r in walked.downstream] == [chain["eval"]]


def test_show_cli_prints_the_chain(chain: dict[str, str], capsys: pytest.CaptureFixture[str]):
    assert main(["lineage", "show", chain["model"]]) == 0
    out = capsys.readouterr().out
    assert out.index("train.scorer") < out.index("curate.run") < out.index("raw inputs:")
    assert "raw-code" in out and "used by:" in out and "eval.run" in out


def test_show_json_by_run_id(chain: dict[str, str], capsys: pytest.CaptureFixture[str]):
    assert main(["lineage", "show", chain["eval"], "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["command"] for r in data["runs"]] == ["eval.run", "train.scorer", "curate.run"]
    assert data["raw_inputs"][0]["name"] == "raw-code"


def test_run_records_config_versions_and_git(chain: dict[str, str]):
    from mlflow import MlflowClient

    run = MlflowClient().get_run(chain["curate"])
    assert run.data.params["dedup.threshold"] == "0.8"
    assert run.data.metrics["kept"] == 1
    versions = json.loads(run.data.tags["codekiln.versions"])
    from codekiln_core import __version__

    assert versions["codekiln-core"] == __version__
    assert run.info.status == "FINISHED"
    if (Path.cwd() / ".git").exists():
        assert len(run.data.tags["codekiln.git_sha"]) == 40


def test_failed_command_marks_the_run_failed(mlflow_store: str):
    with pytest.raises(RuntimeError), lineage_run("broken") as run:
        raise RuntimeError("stage crashed")
    from mlflow import MlflowClient

    assert run.run_id is not None
    assert MlflowClient().get_run(run.run_id).info.status == "FAILED"


def test_disabled_lineage_touches_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with lineage_run("x", enabled=False) as run:
        assert run.run_id is None
        run.log_metrics({"a": 1})
        run.log_output(tmp_path, name="out")
    assert not (tmp_path / ".codekiln").exists()


@pytest.mark.parametrize("ref", ["models:/nope/1", "0" * 32, "what-is-this"])
def test_unknown_refs_are_one_line_errors(mlflow_store: str, ref: str):
    with pytest.raises(LineageError) as err:
        walk_chain(ref)
    assert "\n" not in str(err.value) and ref in str(err.value)


@pytest.mark.slow
def test_ui_serves_on_localhost_and_stops_cleanly(mlflow_store: str, tmp_path: Path):
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "codekiln_core", "lineage", "ui", "--port", str(port),
         "--no-wait"], capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"http://127.0.0.1:{port}" in proc.stdout
    pgid = int(proc.stdout.split("process group ")[1].split(";")[0])
    import os
    import signal
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert response.status == 200
    finally:
        os.killpg(pgid, signal.SIGTERM)
