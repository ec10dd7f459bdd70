"""`codekiln curate run|report`: one-line errors before any work, lineage, summary tables,
the output rule (``--resume``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from codekiln_core.cli.app import main
from codekiln_core.hookspecs import hookimpl


def write(tmp: Path, data: dict) -> Path:
    path = tmp / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The whole of stderr is one line (no blank line before it, e.g. from progress bars)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    return err.strip()


def test_missing_path_fails_before_any_work(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    recipe = write(tmp_path, {"inputs": [{"kind": "dir", "path": str(tmp_path / "nope")}],
                              "output": str(out)})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert err.startswith(f"error: {recipe}: inputs[0].path") and "does not exist" in err
    assert not out.exists()


def test_unknown_stage_and_bad_gate_fail_before_any_work(
        tmp_path: Path, tiny_code_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}], "output": str(out)}
    recipe = write(tmp_path, {**base, "stages": [{"name": "no-such-stage"}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert err.startswith(f"error: {recipe}: stages[0]: unknown stage 'no-such-stage'")
    assert "exact-dedup" in err
    recipe = write(tmp_path, {**base, "stages": [
        {"name": "exact-dedup", "gates": [{"signal": "nonsense", "min": 1}]}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert err.startswith(f"error: {recipe}: stages[0].gates[0]: gate on unknown signal "
                          "'nonsense'")
    recipe = write(tmp_path, {**base, "stages": [{"name": "near-dedup",
                                                   "options": {"bands_typo": 3}}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert "stages[0].options.bands_typo" in err and "allowed keys here: bands," in err
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

    repo_copy = Path(__file__).resolve().parents[4] / "recipes" / "curate-default.yaml"
    if repo_copy.is_file():
        assert repo_copy.read_text() == default_recipe_text()
    recipe = load_curate_recipe(None, ["workers=1"])
    assert recipe.workers == 1 and recipe.inputs[0].path == "${stdlib}"


@pytest.mark.parametrize(("options", "expected"), [
    ({"threshold": "high"}, "key 'stages[1].options.threshold' = 'high': Input should be a "
                            "valid number"),
    ({"thresh": 0.5}, "unknown key 'stages[1].options.thresh'; allowed keys here: bands, "
                      "level, num_perm, rows, seed, shingle_size, threshold"),
    ({"threshold": 1.5}, "key 'stages[1].options.threshold' = 1.5: Input should be less than 1"),
    ({"level": "org"}, "key 'stages[1].options.level' = 'org': Input should be 'file' or 'repo'"),
])
def test_stage_options_are_validated_with_the_recipe(
        tmp_path: Path, tiny_code_corpus: Path, capsys: pytest.CaptureFixture[str],
        options: dict, expected: str) -> None:
    out = tmp_path / "out"
    recipe = write(tmp_path, {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
                              "output": str(out), "stages": [
                                  {"name": "heuristics"},
                                  {"name": "near-dedup", "options": options}]})
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage"])
    assert err.startswith(f"error: {recipe}: {expected}")
    assert "expected: " in err or "allowed keys" in err  # what is allowed, from the model
    assert not out.exists()


def test_output_that_is_a_file_is_a_one_line_error(
        tmp_path: Path, tiny_code_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me\n")
    recipe = write(tmp_path, {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}]})
    for output, extra in ((taken, []), (taken, ["--resume"]), (taken / "sub", [])):
        err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage",
                                      "--output", str(output), *extra])
        assert str(output) in err and "unexpected" not in err
        assert "not a directory" in err or "exists and is not empty" in err
    assert taken.read_text() == "keep me\n"


def test_an_existing_output_is_continued_only_with_resume(
        tmp_path: Path, tiny_code_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    recipe = write(tmp_path, {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
                              "stages": [{"name": "exact-dedup"}], "output": str(out)})
    assert main(["curate", "run", str(recipe), "--no-lineage", "-q"]) == 0
    report = (out / "report.md").read_bytes()
    capsys.readouterr()
    err = one_line_error(capsys, ["curate", "run", str(recipe), "--no-lineage", "-q"])
    assert err == (f"error: {out}: the output exists and is not empty; pass --resume to "
                   "continue the run there, or choose a new --output")
    assert main(["curate", "run", str(recipe), "--no-lineage", "-q", "--resume"]) == 0
    assert (out / "report.md").read_bytes() == report
    other = write(tmp_path, {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
                             "output": str(out)})  # no stages: another recipe
    capsys.readouterr()
    err = one_line_error(capsys, ["curate", "run", str(other), "--no-lineage", "--resume"])
    assert "holds a run of a different recipe" in err


class _Clash:
    """A third-party plugin registering a stage name curate already owns."""

    class Copy:
        name = "exact-dedup"

        def filter(self, doc: dict) -> bool:
            return True

    @hookimpl
    def codekiln_register_stages(self, register: Any) -> None:
        register("exact-dedup", self.Copy, description="takes curate's name")


def test_a_contested_stage_name_fails_only_recipes_that_use_it(
        tmp_path: Path, tiny_code_corpus: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from codekiln_core import plugins

    original = plugins.get_plugin_manager

    def with_clash(**kwargs: Any) -> plugins.PluginManager:
        pm = original(**kwargs)
        pm.register(_Clash(), name="clash")
        return pm

    monkeypatch.setattr(plugins, "get_plugin_manager", with_clash)
    monkeypatch.setattr("codekiln_core.commands.plugins.list.get_plugin_manager", with_clash)
    monkeypatch.setattr("codekiln_core.cli.app.get_plugin_manager", with_clash)
    monkeypatch.setattr(plugins, "_shared", None)  # restored after the test
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}]}
    fine = write(tmp_path, {**base, "stages": [{"name": "heuristics"}, {"name": "near-dedup"}],
                            "output": str(tmp_path / "fine")})
    assert main(["curate", "run", str(fine), "--no-lineage", "-q"]) == 0
    capsys.readouterr()
    clash = write(tmp_path, {**base, "stages": [{"name": "exact-dedup"}],
                             "output": str(tmp_path / "clash")})
    err = one_line_error(capsys, ["curate", "run", str(clash), "--no-lineage"])
    assert err.startswith(f"error: {clash}: stages[0]: stage name 'exact-dedup' is registered "
                          "by both plugin 'curate' and plugin 'clash'")
    assert main(["plugins", "list"]) == 0
    assert "conflict" in capsys.readouterr().out
