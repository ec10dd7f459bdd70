"""Pipeline recipes: validation with one-line errors, --set by step name, command lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.pipeline.command import flatten_overrides
from codekiln_core.pipeline.plan import plan
from codekiln_core.pipeline.preflight import check_commands
from codekiln_core.pipeline.recipe import load_pipeline, referenced_steps

GOOD = """name: demo
workdir: {workdir}
steps:
  - name: curate
    kind: curate
    recipe: curate.yaml
  - name: label
    kind: label
    inputs: ["${{steps.curate.output}}"]
    set: {{teacher: {{kind: hf, mode: logprobs}}, sampling.languages: [python]}}
  - name: score
    kind: score
    inputs: ["${{steps.curate.output}}"]
    set: {{model: "${{steps.label.output}}/m", drop_percentile: 10, per_language: false}}
  - name: later
    kind: pretrain
    enabled: false
    config: {{shards: "${{steps.nothing.output}}"}}
"""


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    (tmp_path / "curate.yaml").write_text("inputs: []\n", encoding="utf-8")
    path = tmp_path / "pipe.yaml"
    path.write_text(GOOD.format(workdir=tmp_path / "work"), encoding="utf-8")
    return path


def test_plan_builds_each_command_line(pipeline_file: Path, tmp_path: Path) -> None:
    recipe = load_pipeline(pipeline_file)
    rows = {step.name: argv for step, argv in plan(recipe)}
    work = tmp_path / "work"
    assert rows["curate"] == ["curate", "run", str(tmp_path / "curate.yaml"),
                              "--output", str(work / "curate")]
    assert rows["label"] == ["curate", "label", str(work / "curate"), "--output",
                             str(work / "label"), "--set", 'teacher.kind="hf"',
                             "--set", 'teacher.mode="logprobs"',
                             "--set", 'sampling.languages=["python"]']
    assert rows["score"] == ["curate", "score", str(work / "curate"), "--output",
                             str(work / "score"), "--set", f'model="{work / "label"}/m"',
                             "--set", "drop_percentile=10", "--set", "per_language=false"]
    assert rows["later"] is None  # disabled: its dangling reference is not checked
    assert referenced_steps(recipe.step("score")) == ["curate", "label"]


def test_set_addresses_steps_by_name_and_by_index(pipeline_file: Path) -> None:
    recipe = load_pipeline(pipeline_file, ["steps.label.set.teacher.batch_size=2",
                                           "steps.2.set.drop_percentile=20",
                                           "name=other"])
    assert recipe.step("label").set["teacher"] == {"kind": "hf", "mode": "logprobs",
                                                   "batch_size": 2}
    assert recipe.step("score").set["drop_percentile"] == 20
    assert recipe.name == "other"
    assert flatten_overrides({"a": {"b": 1, "c": "on"}, "d.e": [1]}) == [
        "a.b=1", 'a.c="on"', "d.e=[1]"]  # JSON: "on" stays a string when read back


def test_a_step_written_for_the_old_kinds_is_read_with_a_deprecation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(f"name: old\nworkdir: {tmp_path / 'work'}\nsteps:\n"
                    "  - {name: tok, kind: command, command: [curate, tokenizer, train],\n"
                    "     inputs: [d], output_flag: --output, resumes: false,\n"
                    "     options: {vocab_size: 300}}\n"
                    "  - {name: ev, kind: eval, options: {benchmark: mbpp, k: '1',\n"
                    "     register: x}, set: {n: 2}}\n", encoding="utf-8")
    recipe = load_pipeline(path)
    assert recipe.step("tok").kind == "curate.tokenizer.train"
    assert recipe.step("tok").set == {"vocab_size": 300}
    assert recipe.step("ev").set == {"benchmark": "mbpp", "ks": "1", "register_as": "x",
                                     "n": 2}
    err = capsys.readouterr().err
    for key in ("'options'", "'kind: command'", "'output_flag'", "'resumes'"):
        assert f"{key} is deprecated" in err


@pytest.mark.parametrize(("edit", "message"), [
    ("steps.label.kind=lable", "'steps.1.kind' = 'lable': unknown step kind; kinds "
     "(registered commands): "),
    ("steps.score.inputs=['${steps.shards.output}']",
     "no earlier step named 'shards' (earlier steps: curate, label)"),
    ("steps.score.inputs=['${steps.curate.digest}']", "not 'digest'"),
    ("steps.label.name=curate", "two steps have this name"),
    ("steps.curate.inputs=[x]", "curate.run takes no INPUT arguments"),
    ("steps.label.colour=red", "unknown key 'steps.1.colour'; allowed keys here: config, "),
    ("steps.curate.enabled=false", "step 'curate' is disabled"),
    ("steps.nope.enabled=false", "no step named 'nope'; steps: curate, label, score, later"),
])
def test_bad_recipes_fail_in_one_line(pipeline_file: Path, edit: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_pipeline(pipeline_file, [edit])
    text = str(error.value)
    assert message in text and "\n" not in text
    assert str(pipeline_file) in text or "--set" in text


def test_planned_commands_are_refused_before_anything_runs(pipeline_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"'steps.3.kind' = 'train.pretrain-xyz': unknown "
                                          r"step kind"):
        load_pipeline(pipeline_file, ["steps.later.kind=train.pretrain-xyz"])
    check_commands(load_pipeline(pipeline_file))  # the enabled ones exist


def test_dry_run_prints_commands_and_runs_nothing(
    pipeline_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(pipeline_file), "--dry-run", "--until", "label"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("codekiln curate run ")
    assert "# score (score): outside --from/--until" in out
    assert "# later (pretrain): disabled" in out
    assert not (tmp_path / "work").exists()


def test_unknown_range_step_is_one_line(pipeline_file: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from codekiln_core.pipeline.runner import PipelineRunner

    recipe = load_pipeline(pipeline_file)
    with pytest.raises(ConfigError, match="--from 'lable': no such step; steps: curate"):
        PipelineRunner(recipe, console=None, from_step="lable")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="comes after --until"):
        PipelineRunner(recipe, console=None, from_step="score",  # type: ignore[arg-type]
                       until_step="curate")
