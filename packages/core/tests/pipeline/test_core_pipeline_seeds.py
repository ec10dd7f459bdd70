"""Seed expansion: seeded steps repeat per seed, data steps stay shared, gather collects."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.pipeline.plan import plan
from codekiln_core.pipeline.recipe import load_pipeline
from codekiln_core.pipeline.seeds import parse_seeds, seed_of, step_range_name

PIPE = """name: seeds-demo
workdir: {workdir}
seeds: [0]
steps:
  - name: data
    kind: shards
    inputs: [corpus]
    set: {{tokenizer: tok}}
  - name: train-a
    kind: pretrain
    recipe: pre.yaml
    set: {{seed: "${{seed}}", stages.0.mixture.0.path: "${{steps.data.output}}"}}
  - name: train-b
    kind: pretrain
    recipe: pre.yaml
    seeded: true
    set: {{stages.0.mixture.0.path: "${{steps.data.output}}"}}
  - name: eval-a
    kind: eval
    set: {{benchmark: mbpp, model: "${{steps.train-a.output}}/model", seed: "${{seed}}",
          tag: "s${{seed}}"}}
  - name: shared-after
    kind: tokenizer
    inputs: ["${{steps.data.output}}"]
  - name: compare
    kind: compare
    gather_seeds: true
    inputs: ["a@${{seed}}=${{steps.train-a.run_id}}", "b@${{seed}}=${{steps.train-b.run_id}}",
             "fixed-item"]
    set: {{metrics: [val_loss]}}
"""


@pytest.fixture
def pipe(tmp_path: Path) -> Path:
    (tmp_path / "pre.yaml").write_text("seed: 0\n", encoding="utf-8")
    path = tmp_path / "pipe.yaml"
    path.write_text(PIPE.format(workdir=tmp_path / "work"), encoding="utf-8")
    return path


def test_seeded_steps_repeat_seed_by_seed_and_data_steps_stay_shared(pipe: Path) -> None:
    recipe = load_pipeline(pipe, seeds=[0, 1])
    assert [s.name for s in recipe.steps] == [
        "data",
        "train-a-s0", "train-b-s0", "eval-a-s0",  # seed 0's whole stretch first
        "train-a-s1", "train-b-s1", "eval-a-s1",
        "shared-after", "compare"]
    assert recipe.seeds == [0, 1]
    a1 = recipe.step("train-a-s1")
    assert a1.set["seed"] == 1  # a whole-value ${seed} becomes the number
    assert a1.set["stages.0.mixture.0.path"] == "${steps.data.output}"  # shared: unchanged
    e1 = recipe.step("eval-a-s1")
    assert e1.set["model"] == "${steps.train-a-s1.output}/model"  # that seed's copy
    assert e1.set["tag"] == "s1"
    assert seed_of(recipe, "eval-a-s1") == 1 and seed_of(recipe, "shared-after") is None
    gathered = recipe.step("compare").inputs
    assert gathered == ["a@0=${steps.train-a-s0.run_id}", "a@1=${steps.train-a-s1.run_id}",
                        "b@0=${steps.train-b-s0.run_id}", "b@1=${steps.train-b-s1.run_id}",
                        "fixed-item"]


def test_command_lines_of_the_copies(pipe: Path, tmp_path: Path) -> None:
    rows = {step.name: argv for step, argv in plan(load_pipeline(pipe, seeds=[3]))}
    work = tmp_path / "work"
    assert rows["train-a-s3"] is not None
    assert rows["train-a-s3"][-4:] == ["--set", "seed=3", "--set",
                                       f'stages.0.mixture.0.path="{work / "data"}"']
    assert f'model="{work / "train-a-s3"}/model"' in (rows["eval-a-s3"] or [])
    assert (rows["compare"] or [])[2:4] == ["a@3=<run id of train-a-s3>",
                                            "b@3=<run id of train-b-s3>"]


def test_recipe_without_seeded_steps_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("steps:\n  - {name: t, kind: tokenizer, inputs: [x]}\n", encoding="utf-8")
    assert [s.name for s in load_pipeline(path, seeds=[0, 1, 2]).steps] == ["t"]
    quickstart = Path(__file__).parents[4] / "recipes" / "quickstart.yaml"
    names = [s.name for s in load_pipeline(quickstart).steps]
    assert "pretrain" in names and not any(n.endswith("-s0") for n in names)


def test_range_names_and_seed_parsing(pipe: Path) -> None:
    recipe = load_pipeline(pipe, seeds=parse_seeds("2"))
    assert step_range_name(recipe, "train-a", last=False) == "train-a-s0"
    assert step_range_name(recipe, "eval-a", last=True) == "eval-a-s1"
    assert step_range_name(recipe, "data", last=True) == "data"
    assert parse_seeds("0,4,7") == [0, 4, 7]
    for bad in ("0", "x", "1,1", "-1"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)


@pytest.mark.parametrize(("override", "message"), [
    ("steps.train-a.seeded=false",
     r"pipe.yaml: key 'steps.1.set.seed' = '\$\{seed\}': step 'train-a' says seeded: false"),
    ("steps.compare.set.baseline=${steps.train-a.run_id}",
     r"key 'steps.5.set.baseline' = .*only in list items"),
    ("steps.compare.seeded=true", r"'steps.5.gather_seeds' = true: .* also says seeded"),
    ("seeds=[1, 1]", r"pipe.yaml: key 'seeds' = \[1, 1\]: seeds must be distinct"),
])
def test_contradictions_fail_in_one_line(pipe: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_pipeline(pipe, [override])


def test_copy_names_may_not_clash(pipe: Path) -> None:
    with pytest.raises(ConfigError, match=r"clash with step names \['train-a-s0'\]"):
        load_pipeline(pipe, ["steps.shared-after.name=train-a-s0"])


def test_dry_run_shows_the_expanded_steps(pipe: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(pipe), "--dry-run", "--seeds", "2", "--from", "train-b",
                 "--until", "train-a"]) == 0
    out = capsys.readouterr().out
    assert "# train-a-s1: seed 1 of [0, 1]" in out
    assert "# data (shards): outside --from/--until" in out
    assert "# eval-a-s1 (eval): outside --from/--until" in out  # --until: train-a's last copy
    assert f"--output {tmp_path / 'work' / 'train-a-s1'}" in out
    assert not (tmp_path / "work").exists()
    assert main(["run", str(pipe), "--dry-run", "--seeds", "zero"]) == 2
    assert "--seeds 'zero'" in capsys.readouterr().err


def test_more_seeds_leave_the_earlier_copies_command_lines_unchanged(pipe: Path) -> None:
    """A rerun with --seeds 2 after --seeds 1 skips seed 0: same command line, same digest."""
    one = {s.name: argv for s, argv in plan(load_pipeline(pipe, seeds=[0]))}
    two = {s.name: argv for s, argv in plan(load_pipeline(pipe, seeds=[0, 1]))}
    for name, argv in one.items():
        if name != "compare":  # the gathering step is the one that changes
            assert two[name] == argv, name
    assert set(two) - set(one) == {"train-a-s1", "train-b-s1", "eval-a-s1"}
