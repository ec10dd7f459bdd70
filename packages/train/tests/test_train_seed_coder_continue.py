"""recipes/seed-coder-8b-continue.yaml against Seed-Coder-8B-Base's published config.json,
fetched by hub id from a local hub cache laid out as the hub client leaves a download
(offline), and built on the meta device: no weights, no GPU, no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codekiln_core.testing import hub_cache_layout

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "seed-coder-8b-continue.yaml"
PUBLISHED = Path(__file__).parent / "data" / "seed-coder-8b-base" / "config.json"
HUB_ID = "ByteDance-Seed/Seed-Coder-8B-Base"


@pytest.fixture
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = tmp_path / "files"
    files.mkdir()
    shutil.copy2(PUBLISHED, files / "config.json")
    hub_cache_layout(tmp_path / "hub", HUB_ID, files)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hub"


def test_the_8b_continue_recipe_validates_against_the_published_config(
        offline_hub: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from codekiln_core.start_model import parse_start_model, start_model_input
    from codekiln_train.models import build_model, parameter_count
    from codekiln_train.models.released import section_shape
    from codekiln_train.recipe import load_pretrain_recipe
    from codekiln_train.stage_plan import stage_plan

    recipe = load_pretrain_recipe(RECIPE, check_paths=False)
    assert recipe.model.from_ == HUB_ID and recipe.model.preset is None
    assert recipe.engine.zero_stage == 3 and recipe.engine.precision == "bf16"
    shape = section_shape(recipe.model)
    assert (shape.hidden_size, shape.intermediate_size, shape.num_hidden_layers) == \
        (4096, 14336, 32)
    assert (shape.num_attention_heads, shape.num_key_value_heads) == (32, 8)
    assert shape.rope_theta == 500_000.0 and not shape.tie_word_embeddings
    # The engine's model and transformers' own reading of the file agree, parameter for
    # parameter (8.25B at the 155,136-token vocabulary).
    vocab = 155_136
    ours = build_model(shape, vocab_size=vocab, device="meta", bos_token_id=0,
                       eos_token_id=2, pad_token_id=1)
    with torch.device("meta"):
        theirs = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(PUBLISHED)))
    assert {n: p.shape for n, p in ours.named_parameters()} == \
        {n: p.shape for n, p in theirs.named_parameters()}
    assert sum(p.numel() for p in ours.parameters()) == parameter_count(shape, vocab)
    assert 8.2e9 < parameter_count(shape, vocab) < 8.3e9
    (plan,) = stage_plan(recipe, world_size=64)
    assert (plan.seq_len, plan.tokens_per_step, plan.gradient_accumulation_steps) == \
        (32768, 4_194_304, 2)
    assert plan.lr == pytest.approx(3e-5) and plan.rope_theta == 500_000.0
    ref = start_model_input(parse_start_model(recipe.model.from_))
    assert ref.source == f"hf://{HUB_ID}" and ref.digest == "hf:0123456789ab"
