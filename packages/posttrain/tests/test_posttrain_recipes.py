"""Every post-training recipe in recipes/ loads and validates; the paper's settings hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.config import load_recipe
from codekiln_posttrain.chat.datasets import read_rows
from codekiln_posttrain.recipe import DpoRecipe, GrpoRecipe, SftRecipe

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
KINDS = {"posttrain-tiny-sft.yaml": SftRecipe, "posttrain-tiny-dpo.yaml": DpoRecipe,
         "posttrain-tiny-grpo.yaml": GrpoRecipe, "seed-coder-8b-instruct.yaml": SftRecipe,
         "seed-coder-8b-instruct-dpo.yaml": DpoRecipe,
         "seed-coder-8b-reasoning.yaml": GrpoRecipe, "posttrain-smollm2-sft.yaml": SftRecipe,
         "posttrain-smollm2-dpo.yaml": DpoRecipe, "posttrain-smollm2-grpo.yaml": GrpoRecipe}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_recipe_loads(name: str) -> None:
    load_recipe(RECIPES / name, KINDS[name])


def test_paper_settings() -> None:
    sft = load_recipe(RECIPES / "seed-coder-8b-instruct.yaml", SftRecipe)
    assert (sft.epochs, sft.engine.lr, sft.chat_template) == (3, 2e-5, "seed-coder")
    rl = load_recipe(RECIPES / "seed-coder-8b-reasoning.yaml", GrpoRecipe)
    g = rl.grpo
    assert (g.prompts_per_step, g.lr, g.temperature, g.eps_high, g.kl_coef) == (
        128, 1e-6, 0.6, 0.28, 0.0)
    assert g.curriculum_max_pass_rate == 0.875 and rl.backend == "verl"
    assert (g.stages[0].steps, g.stages[0].max_new_tokens, g.stages[0].rollouts) == (
        90, 16384, 16)


def test_tiny_data_files_are_valid() -> None:
    assert len(read_rows(RECIPES / "data" / "posttrain-tiny-sft.jsonl", "sft")) == 8
    assert len(read_rows(RECIPES / "data" / "posttrain-tiny-pairs.jsonl", "preference")) == 8
    assert all("tests" in r for r in read_rows(RECIPES / "data" / "posttrain-tiny-rl.jsonl",
                                               "rl"))


def test_set_override_reaches_the_engine() -> None:
    recipe = load_recipe(RECIPES / "posttrain-tiny-sft.yaml", SftRecipe,
                         ["engine.lr=3e-4", "epochs=1"])
    assert recipe.engine.lr == 3e-4 and recipe.epochs == 1


def test_sft_recipe_takes_one_path_or_several(tmp_path: Path) -> None:
    base = {"model": "m", "output": str(tmp_path / "o")}
    assert SftRecipe.model_validate({**base, "data": "a.jsonl"}).data == [Path("a.jsonl")]
    both = SftRecipe.model_validate({**base, "data": ["a.jsonl", "b"]}).data
    assert both == [Path("a.jsonl"), Path("b")]
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    for path in (first, second):
        path.write_text(json.dumps(row) + "\n")
    assert len(read_rows([first, second], "sft")) == 2
