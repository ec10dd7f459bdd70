"""The pretraining recipe: both shipped recipes validate, budgets resolve to steps, and
every bad input is one line naming the file, the key and the fix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from codekiln_core.errors import ConfigError
from codekiln_train.models import PRESETS, ModelConfig
from codekiln_train.recipe import ModelSection, PretrainRecipe, load_pretrain_recipe
from codekiln_train.stage_plan import check_stage_shards, stage_plan

if TYPE_CHECKING:
    from conftest import TinyShards

ROOT = Path(__file__).resolve().parents[3]
RECIPES = ROOT / "recipes"


def test_seed_coder_8b_recipe_plans_the_papers_budgets() -> None:
    recipe = load_pretrain_recipe(RECIPES / "seed-coder-8b.yaml", check_paths=False)
    assert recipe.model.preset == "seed-coder-8b"
    assert recipe.engine.zero_stage == 3 and recipe.engine.precision == "bf16"
    assert recipe.engine.activation_checkpointing
    plans = stage_plan(recipe, world_size=64)
    budgets = [1e12, 4e12, 0.4e12, 0.6e12]  # Seed-Coder report
    assert [p.seq_len for p in plans] == [8192, 8192, 32768, 32768]
    for plan, budget in zip(plans, budgets, strict=True):
        assert plan.tokens_per_step == 4_194_304
        assert budget <= plan.tokens < budget + plan.tokens_per_step
    assert [p.gradient_accumulation_steps for p in plans] == [8, 8, 2, 2]  # 64 GPUs, mbs 1
    assert [p.lr for p in plans] == pytest.approx([3e-4, 3e-4, 3e-4 / 10**0.5, 3e-5],
                                                  rel=1e-3)
    assert plans[0].schedule.warmup_steps == 2000
    assert [p.init_from for p in plans] == [None, "regular-web", "regular-code", "continued-1"]
    assert plans[3].first_step == sum(p.steps for p in plans[:3])
    assert sum(p.tokens for p in plans) == pytest.approx(6e12, rel=1e-4)
    assert all(p.rope_theta == 500_000.0 and p.info is None for p in plans)


def test_tiny_recipe_validates_structure() -> None:
    recipe = load_pretrain_recipe(RECIPES / "pretrain-tiny.yaml", check_paths=False)
    plans = stage_plan(recipe)
    assert [(p.seq_len, p.gradient_accumulation_steps) for p in plans] == [(256, 2), (512, 1)]
    assert [p.rope_theta for p in plans] == [10_000.0, 500_000.0]
    assert sum(p.steps for p in plans) == 74 + 25  # minutes on a CPU
    assert plans[1].engine.lr == pytest.approx(0.000632)
    assert plans[1].engine.gradient_accumulation_steps == 1
    assert plans[1].engine.global_batch_tokens is None


@pytest.fixture
def tiny_workdir(tiny_shards: TinyShards, tmp_path: Path) -> Iterator[Path]:
    """A working directory whose .codekiln/ holds the recipe's shard paths (test shards)."""
    links = {"shards-tiny": tiny_shards.code, "shards-tiny-long": tiny_shards.extra,
             "shards-tiny-val": tiny_shards.validation}
    (tmp_path / ".codekiln").mkdir()
    for name, target in links.items():
        (tmp_path / ".codekiln" / name).symlink_to(target)
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


SEQ_128 = ["stages.0.seq_len=128", "stages.1.seq_len=128", "engine.global_batch_tokens=2048"]


def test_tiny_recipe_against_real_shards(tiny_workdir: Path) -> None:
    path = RECIPES / "pretrain-tiny.yaml"
    with pytest.raises(ConfigError, match=r"seq_len = 128 but the .*stages\.0 \(regular\) "
                                          r"asks for seq_len 256"):
        load_pretrain_recipe(path)
    recipe = load_pretrain_recipe(path, [*SEQ_128, "model.num_hidden_layers=2"])
    assert recipe.model.overrides == {"num_hidden_layers": 2}
    infos = check_stage_shards(recipe)
    plans = stage_plan(recipe, infos)
    assert plans[0].info is not None and plans[0].info.vocab_size == 1024
    assert plans[0].validation is not None and plans[0].validation.sequences > 0
    assert [p.gradient_accumulation_steps for p in plans] == [2, 2]


def write(tmp_path: Path, recipe: dict[str, object]) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def minimal() -> dict[str, object]:
    return {"model": {"preset": "tiny"}, "output": "out",
            "engine": {"micro_batch_size": 2, "global_batch_tokens": 1024},
            "stages": [{"name": "one", "seq_len": 128, "tokens": 10_240,
                        "mixture": [{"path": "a"}]}]}


@pytest.mark.parametrize(("sets", "message"), [
    (["engine.zero_stag=2"], "unknown key 'engine.zero_stag'; allowed keys here: "
                             "activation_checkpointing, betas"),
    (["engine.zero_stage=4"], "key 'engine.zero_stage' = 4: Input should be 0, 1, 2 or 3"),
    (["stages.0.steps=5"], "give exactly one of tokens and steps"),
    (["stages.0.mixture.0.weight=-1"], "key 'stages.0.mixture.0.weight' = -1"),
    (["model.hidden_size=130"], "model (preset 'tiny'): hidden_size=130 is not divisible"),
    (["model.preset=7b"], "model.preset '7b': unknown preset"),
    (["engine.global_batch_tokens=1000"], "global_batch_tokens = 1000 is not a multiple of "
                                          "micro_batch_size x seq_len x world_size = 2 x 128 "
                                          "x 1 = 256; use 768 or 1024"),
    (["engine.gradient_accumulation_steps=2"], "not both"),
    (["stages.0.schedule.warmup_steps=50"], "stages.0 (one).schedule: warmup_steps 50"),
    (["stages.0.seq_len=4096"], "seq_len 4096 exceeds the model's max_position_embeddings"),
    (["stages.0.name=One Stage"], "use lowercase letters"),
    (["stages.3.lr=1"], "must index a list of 1 item"),
    (["stages.0.seq_len=null"], "seq_len is needed when the shards are not read"),
])
def test_bad_recipes_are_one_line_errors(tmp_path: Path, sets: list[str],
                                         message: str) -> None:
    path = write(tmp_path, minimal())
    with pytest.raises(ConfigError) as info:
        load_pretrain_recipe(path, sets, check_paths=False)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert str(path) in text or text.startswith("--set")  # a bad flag names the flag


def test_repeated_stage_names(tmp_path: Path) -> None:
    recipe = minimal()
    recipe["stages"] = recipe["stages"] * 2  # type: ignore[operator]
    with pytest.raises(ConfigError, match=r"stage names \['one', 'one'\] repeat"):
        load_pretrain_recipe(write(tmp_path, recipe), check_paths=False)


def test_stage_shards_must_share_a_tokenizer(tiny_shards: TinyShards, tmp_path: Path) -> None:
    other, tokenizer = tmp_path / "other", tmp_path / "other-tokenizer"
    shutil.copytree(tiny_shards.extra, other)
    tokenizer.mkdir()  # another tokenizer file (same ids, other bytes) the shards name
    text = json.loads((tiny_shards.tokenizer / "tokenizer.json").read_text())
    (tokenizer / "tokenizer.json").write_text(json.dumps(text, indent=1))
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["tokenizer"] = {"path": str(tokenizer), "sha256": hashlib.sha256(
        (tokenizer / "tokenizer.json").read_bytes()).hexdigest()}
    (other / "manifest.json").write_text(json.dumps(manifest))
    recipe = minimal()
    recipe["stages"] = [
        {"name": "one", "tokens": 10_240, "mixture": [{"path": str(tiny_shards.code)}]},
        {"name": "two", "tokens": 10_240, "mixture": [{"path": str(other)}]}]
    path = write(tmp_path, recipe)
    with pytest.raises(ConfigError, match=r"stages\.1 \(two\): shards use tokenizer "
                                          + manifest["tokenizer"]["sha256"][:12]):
        load_pretrain_recipe(path)
    recipe["stages"] = [{"name": "one", "tokens": 10_240, "validation": str(other),
                         "mixture": [{"path": str(tiny_shards.code)}]}]
    with pytest.raises(ConfigError, match="make the validation shards with the same tokenizer"):
        load_pretrain_recipe(write(tmp_path, recipe))
    with pytest.raises(ConfigError, match=r"recipe\.yaml: stages\.0 \(one\): mixture\.0\.path: "
                                          r"a has no manifest\.json"):
        load_pretrain_recipe(write(tmp_path, minimal()))  # check_paths reads the manifests


def test_model_section_mirrors_model_config() -> None:
    """Every ModelConfig field can be overridden from the recipe, and nothing else."""
    fields = set(ModelSection.model_fields) - {"preset", "from_", "attn_implementation",
                                               "cross_document_attention"}
    assert fields == set(ModelConfig.__dataclass_fields__)
    assert set(PRESETS) == {"tiny", "small", "1b", "seed-coder-8b"}


def test_docs_list_every_recipe_key() -> None:
    from codekiln_train.recipe import recipe_reference

    docs = (ROOT / "docs" / "train.md").read_text(encoding="utf-8")
    start = docs.index("<!-- recipe-keys:start -->\n") + len("<!-- recipe-keys:start -->\n")
    end = docs.index("<!-- recipe-keys:end -->")
    assert docs[start:end] == recipe_reference(), (
        "docs/train.md's recipe keys are stale; paste codekiln_train.recipe.recipe_reference()")
    assert PretrainRecipe.model_fields  # the table covers the top level too
