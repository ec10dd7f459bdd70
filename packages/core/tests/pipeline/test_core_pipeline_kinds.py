"""Every step kind builds a command line the installed ``codekiln`` CLI accepts.

Parsed by click itself (``make_context``: unknown options, missing required ones and bad
values all raise), so renaming a command's flag fails here, not in a user's pipeline.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import typer

from codekiln_core.cli.app import build_app
from codekiln_core.pipeline.command import build_argv
from codekiln_core.pipeline.kinds import KINDS
from codekiln_core.pipeline.plan import plan
from codekiln_core.pipeline.recipe import StepConfig, load_pipeline

REPO = Path(__file__).resolve().parents[4]
QUICKSTART = REPO / "recipes" / "quickstart.yaml"
ABLATION = REPO / "recipes" / "ablation-llm-filter.yaml"
#: The package that owns each command group (skipped when it is not installed).
OWNERS = {"curate": "codekiln_curate", "train": "codekiln_train",
          "posttrain": "codekiln_posttrain", "eval": "codekiln_eval", "serve": "codekiln_serve"}

#: A sample step of each kind, as a recipe would write it ("D" and "F": an existing
#: directory and file).
SAMPLES: dict[str, dict[str, Any]] = {
    "curate": {"config": {}},
    "label": {"inputs": ["D"], "config": {}},
    "scorer": {"inputs": ["D"], "options": {"device": "cpu", "epochs": 1}},
    "score": {"inputs": ["D"], "options": {"model": "D", "drop_percentile": 10}},
    "tokenizer": {"inputs": ["D"], "options": {"vocab_size": 4096}},
    "shards": {"inputs": ["D"], "options": {"tokenizer": "D", "seq_len": 256}},
    "pretrain": {"config": {}, "options": {"register": "tiny-base", "device": "cpu"}},
    "export": {"inputs": ["models:/tiny-base/latest"]},
    "sft": {"config": {}},
    "dpo": {"config": {}},
    "grpo": {"config": {}},
    "instruct": {"inputs": ["D"], "options": {"endpoint": "http://127.0.0.1:8000/v1",
                                              "model": "teacher"}},
    "pairs": {"inputs": ["F"], "options": {"model": "D"}, "output": "F.jsonl"},
    "import": {"inputs": ["F"], "options": {"format": "mbpp"}, "output": "F.jsonl"},
    "from-code": {"inputs": ["D"], "output": "F.jsonl"},
    "eval": {"options": {"benchmark": "humaneval", "model": "D", "n": 1, "k": "1"}},
    "serve-check": {"inputs": ["D"]},
    "heldout": {"options": {"against": "D", "mbpp_split": "train"}},
    "compare": {"inputs": ["a@0=" + "0" * 32, "b@0=mbpp:" + "1" * 32],
                "options": {"metric": ["val_loss", "mbpp/pass_at_1"], "baseline": "a"}},
    "command": {"command": ["posttrain", "data", "import"], "inputs": ["F"],
                "output_flag": "--output"},
}


@pytest.fixture(scope="module")
def root() -> Any:
    return typer.main.get_command(build_app())


def parse(root: Any, argv: list[str]) -> Any:
    """Walk to the sub-command and let click parse the rest; its errors fail the test."""
    node = root
    words = list(argv)
    path: list[str] = []
    while isinstance(getattr(node, "commands", None), dict):
        word = words.pop(0)
        path.append(word)
        assert word in node.commands, f"`codekiln {' '.join(path)}` does not exist"
        node = node.commands[word]
    return node.make_context(" ".join(path), words)


def require_owner(argv_prefix: tuple[str, ...]) -> None:
    owner = OWNERS.get(argv_prefix[0]) if argv_prefix else None
    if owner and importlib.util.find_spec(owner) is None:
        pytest.skip(f"{owner} is not installed")


def sample_step(kind: str, tmp_path: Path) -> StepConfig:
    (tmp_path / "D").mkdir(exist_ok=True)
    (tmp_path / "F").write_text("{}\n", encoding="utf-8")
    data = dict(SAMPLES[kind], name=f"s-{kind}", kind=kind)
    data["inputs"] = [str(tmp_path / i) if i in ("D", "F") else i for i in data.get("inputs", [])]
    data["options"] = {k: str(tmp_path / v) if v == "D" else v
                       for k, v in data.get("options", {}).items()}
    if "output" in data:
        data["output"] = str(tmp_path / data["output"])
    return StepConfig.model_validate(data)


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("resuming", [False, True], ids=["first", "resumed"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_builds_a_command_line_the_cli_accepts(root: Any, tmp_path: Path,
                                                    kind: str, resuming: bool) -> None:
    step = sample_step(kind, tmp_path)
    require_owner(step.argv_prefix)
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text("{}\n", encoding="utf-8")
    output = Path(step.output) if step.output else tmp_path / "out"
    argv = build_argv(step, lambda n, f: "", output=output if step.has_output else None,
                      recipe_file=recipe_file if step.recipe_style != "none" else None,
                      resuming=resuming)
    context = parse(root, argv)
    if step.has_output:  # the output reaches the command, as a flag or a recipe override
        assert any(a in (str(output), f"{step.output_key}={output}") for a in argv)
        assert any(str(output) in str(v) for v in context.params.values())
    if resuming and step.spec.resume_flag:
        assert argv[-1] == step.spec.resume_flag


def test_output_key_goes_in_as_a_recipe_override(tmp_path: Path) -> None:
    step = sample_step("pretrain", tmp_path)
    argv = build_argv(step, lambda n, f: "", output=tmp_path / "out",
                      recipe_file=tmp_path / "r.yaml")
    assert argv[:3] == ["train", "pretrain", str(tmp_path / "r.yaml")]
    assert f"output={tmp_path / 'out'}" in argv and "--output" not in argv
    assert "--resume" not in argv  # only on a resumed try


def test_quickstart_later_steps_are_correct_once_enabled(root: Any) -> None:
    names = [s.name for s in load_pipeline(QUICKSTART).steps]
    recipe = load_pipeline(QUICKSTART, [f"steps.{n}.enabled=true" for n in names])
    for step, argv in plan(recipe):
        assert argv is not None
        require_owner(step.argv_prefix)
        parse(root, argv)


#: The recipe model each recipe-taking kind's command validates (its --set keys must exist).
RECIPE_MODELS = {"pretrain": ("codekiln_train.recipe", "PretrainRecipe"),
                 "sft": ("codekiln_posttrain.recipe", "SftRecipe"),
                 "dpo": ("codekiln_posttrain.recipe", "DpoRecipe"),
                 "grpo": ("codekiln_posttrain.recipe", "GrpoRecipe")}


def recipe_model(kind: str) -> Any:
    module, name = RECIPE_MODELS[kind]
    return getattr(pytest.importorskip(module), name)


@pytest.mark.parametrize("kind", sorted(k for k, v in KINDS.items() if v.output_key))
def test_output_key_is_a_field_of_the_commands_recipe(kind: str) -> None:
    assert KINDS[kind].output_key in recipe_model(kind).model_fields


def test_quickstart_recipe_overrides_name_real_keys(tmp_path: Path) -> None:
    names = [s.name for s in load_pipeline(QUICKSTART).steps]
    recipe = load_pipeline(QUICKSTART, [f"steps.{n}.enabled=true" for n in names])
    checked = 0
    for step in recipe.steps:
        if step.kind not in RECIPE_MODELS:
            continue
        model = recipe_model(step.kind)
        assert {key.split(".")[0] for key in step.set} <= set(model.model_fields), step.name
        if step.config is not None:  # an inline recipe: its structure validates
            model.model_validate({**step.config, "output": str(tmp_path / step.name)})
        checked += 1
    assert checked == len(RECIPE_MODELS)


def test_ablation_recipe_with_seeds_is_accepted_by_the_cli(root: Any, tmp_path: Path) -> None:
    """Every copy of the ablation's seeded steps parses, and its pretraining recipe validates
    with the overrides each copy passes."""
    from codekiln_core.config import load_recipe

    recipe = load_pipeline(ABLATION, seeds=[0, 1])
    pretrains = 0
    for step, argv in plan(recipe):
        assert argv is not None
        require_owner(step.argv_prefix)
        parse(root, argv)
        if step.kind == "pretrain":
            sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
            load_recipe(argv[2], recipe_model("pretrain"), sets)
            pretrains += 1
    assert pretrains == 4
