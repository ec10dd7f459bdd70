"""The command contract, through a third-party plugin's command installed as users install
plugins: its flags, the output rule, old spellings, lifecycle hooks, lineage, and the
pipeline step it becomes with no edit in core."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main


def test_help_shows_the_contract_and_the_recipe(demo: object,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "count", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--set KEY=VALUE", "--output PATH", "--resume", "--no-lineage",
                 "--min-length INT", "--strip / --no-strip", "[RECIPE] FILES"):
        assert flag in text, flag
    assert "skip lines shorter than this (default: 0)" in " ".join(text.split())
    assert "--register" not in text  # a flag that cannot apply is absent
    assert "--min " not in text  # the old spelling is hidden
    assert "min_length (default 0): skip lines shorter than this" in text


def test_recipe_flags_and_inputs_meet_in_one_validated_recipe(
        demo: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "count.yaml"
    recipe.write_text("min_length: 10\nstrip: false\n")
    code = main(["demo", "count", str(recipe), "a.txt", "--set", "min_length=3",
                 "--strip", "--output", "out", "--no-lineage"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "counts.json").read_text()) == {"a.txt": 2}
    out = capsys.readouterr().out
    assert "lines" in out and "resumed: False" in out and "mlflow run" not in out


def test_a_bad_value_is_one_line_naming_the_key(demo: object,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "count", "a.txt", "--min-length", "-2", "-o", "out"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "key 'min_length' = '-2'" in err
    assert "skip lines shorter than this" in err and not Path("out").exists()


def test_an_existing_output_needs_resume(demo: object, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("earlier run")
    assert main(["demo", "count", "a.txt", "-o", "out", "--no-lineage"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{Path('out')}: the output exists and is not empty" in err
    assert "--resume" in err and "new --output" in err
    assert (tmp_path / "out" / "old.txt").read_text() == "earlier run"  # nothing lost
    assert main(["demo", "count", "a.txt", "-o", "out", "--resume", "--no-lineage"]) == 0
    assert "resumed: True" in capsys.readouterr().out


def test_an_unwritable_output_fails_before_the_work(
        demo: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("not a directory")
    assert main(["demo", "count", "a.txt", "-o", "file/out", "--no-lineage"]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_an_old_spelling_works_once_more_with_a_deprecation(
        demo: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "count", "a.txt", "--min", "2", "-o", "out", "--no-lineage"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--min is deprecated" in err and "--min-length" in err
    assert json.loads((tmp_path / "out" / "counts.json").read_text()) == {"a.txt": 2}


def test_codekiln_run_started_and_finished(demo: object, tmp_path: Path) -> None:
    events: list[tuple[object, ...]] = demo.EVENTS  # type: ignore[attr-defined]
    events.clear()
    assert main(["demo", "count", "a.txt", "-o", "out", "--no-lineage"]) == 0
    assert [e[:3] for e in events] == [("started", "demo.count", None),
                                       ("finished", "demo.count", None)]
    resolved = events[0][3]
    assert isinstance(resolved, dict)
    assert resolved["files"] == [str(tmp_path / "a.txt")]  # resolved: paths absolute
    assert events[1][3:] == ("FINISHED", {"lines": 3})
    events.clear()
    assert main(["demo", "count", "a.txt", "-o", "out2", "--set", "fail=true",
                 "--no-lineage"]) == 1
    assert [(e[0], e[3]) for e in events] == [("started", {**resolved, "fail": True,
                                                           "output": str(tmp_path / "out2")}),
                                              ("finished", "FAILED")]


@pytest.mark.slow
def test_lineage_records_the_recipe_as_written_and_resolved(
        demo: object, mlflow_store: str, tmp_path: Path) -> None:
    from codekiln_core.lineage.store import connect

    recipe = tmp_path / "count.yaml"
    recipe.write_text("# as I wrote it\nmin_length: 2\n")
    events: list[tuple[object, ...]] = demo.EVENTS  # type: ignore[attr-defined]
    events.clear()
    assert main(["demo", "count", str(recipe), "a.txt", "-o", "out"]) == 0
    run_id = events[0][2]
    assert isinstance(run_id, str) and events[1][2] == run_id
    client, _ = connect(create=False)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["codekiln.command"] == "demo.count"
    assert run.data.params["min_length"] == "2"
    written = client.download_artifacts(run_id, "recipe/count.yaml", str(tmp_path / "dl"))
    assert Path(written).read_text() == recipe.read_text()
    inputs = {d.dataset.name for d in run.inputs.dataset_inputs}
    assert "a.txt" in inputs


def test_a_plugins_command_is_a_pipeline_step(demo: object, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = tmp_path / "pipe.yaml"
    pipeline.write_text(f"name: demo\nworkdir: {tmp_path / 'work'}\nsteps:\n"
                        "  - {name: count, kind: count, inputs: [a.txt], set: {min_length: 3}}\n"
                        "  - {name: again, kind: demo.count, inputs: [a.txt]}\n")
    assert main(["run", str(pipeline), "--dry-run"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("codekiln")]
    assert lines == [f"codekiln demo count a.txt --output {tmp_path / 'work' / 'count'} "
                     "--set min_length=3",
                     f"codekiln demo count a.txt --output {tmp_path / 'work' / 'again'}"]


@pytest.mark.slow
def test_resume_continues_the_same_run(demo: object, mlflow_store: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A failed (or killed) run and its --resume are one MLflow run with one curve."""
    from codekiln_core.lineage.store import connect

    assert main(["demo", "count", "a.txt", "-o", "out", "--set", "fail=true"]) == 1
    first = capsys.readouterr()
    marker = json.loads((tmp_path / "out" / ".codekiln-run.json").read_text())
    client, _ = connect(create=False)
    run_id = marker["run_id"]
    assert marker["status"] == "running" and client.get_run(run_id).info.status == "FAILED"
    assert main(["demo", "count", "a.txt", "-o", "out", "--set", "fail=true"]) == 2
    assert main(["demo", "count", "a.txt", "-o", "out", "--set", "fail=true",
                 "--resume"]) == 0, first.err
    assert f"mlflow run: {run_id}" in capsys.readouterr().out
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["codekiln.resumes"] == "1"
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == \
        [(1, 0.5), (2, 1 / 3)]
    runs = client.search_runs([run.info.experiment_id])
    assert [r.info.run_id for r in runs] == [run_id]  # no second run
