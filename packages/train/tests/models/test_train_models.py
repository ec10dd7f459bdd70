"""Model presets: exact parameter counts (8B on the meta device), shape errors, seeding, RoPE θ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.models import (
    PRESETS,
    build_model,
    flops_per_token,
    parameter_count,
    resolve_model_config,
    set_rope_theta,
)

if TYPE_CHECKING:
    from conftest import TinyShards

SEED_CODER_VOCAB = 155_136
IDS = {"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1}


def real_count(model: object) -> int:
    return sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]


def test_seed_coder_8b_on_meta_matches_spec() -> None:
    cfg = PRESETS["seed-coder-8b"]
    model = build_model(cfg, vocab_size=SEED_CODER_VOCAB, device="meta", **IDS)
    count = real_count(model)
    assert count == parameter_count(cfg, SEED_CODER_VOCAB)
    assert abs(count - 8.25e9) / 8.25e9 < 0.01  # Seed-Coder report: 32 layers -> 8.25B
    config = model.config
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (
        32, 4096, 14336)
    assert (config.num_attention_heads, config.num_key_value_heads, config.head_dim) == (
        32, 8, 128)
    assert config.rope_parameters["rope_theta"] == 500_000.0
    assert config.max_position_embeddings == 32768 and config.rms_norm_eps == 1e-6
    assert config.initializer_range == 0.009882 and not config.tie_word_embeddings
    assert model.lm_head.weight is not model.model.embed_tokens.weight


@pytest.mark.parametrize("preset", ["small", "1b"])
def test_presets_count_exactly_on_meta(preset: str) -> None:
    cfg = PRESETS[preset]
    model = build_model(cfg, vocab_size=32768, device="meta", **IDS)
    assert real_count(model) == parameter_count(cfg, 32768)


def test_preset_sizes_are_what_the_docs_say() -> None:
    assert 2e6 < parameter_count(PRESETS["tiny"], 8192) < 5e6  # "a few M"
    assert 20e6 < parameter_count(PRESETS["small"], 0) < 50e6  # non-embedding
    assert 0.9e9 < parameter_count(PRESETS["1b"], 0) < 1.1e9


def test_tiny_real_module_count_and_seeded_weights() -> None:
    import torch

    cfg = resolve_model_config("tiny", {"num_hidden_layers": 2, "tie_word_embeddings": True})
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = build_model(cfg, vocab_size=1024, seed=7, **IDS)
    assert torch.rand(1).item() == before.item()  # the global RNG is left alone
    second = build_model(cfg, vocab_size=1024, seed=7, **IDS)
    other = build_model(cfg, vocab_size=1024, seed=8, **IDS)
    assert real_count(first) == parameter_count(cfg, 1024)
    assert first.lm_head.weight is first.model.embed_tokens.weight  # tied on request
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first.model.layers[0].mlp.up_proj.weight,
                           other.model.layers[0].mlp.up_proj.weight)


def test_overrides_replace_any_field_and_keep_the_rest() -> None:
    cfg = resolve_model_config("seed-coder-8b", {"num_hidden_layers": 36, "rope_theta": 1e6})
    assert cfg.num_hidden_layers == 36 and cfg.rope_theta == 1e6
    assert cfg.hidden_size == 4096
    assert abs(parameter_count(cfg, SEED_CODER_VOCAB) - 9.12e9) / 9.12e9 < 0.01  # Seed-Coder report
    assert resolve_model_config("tiny", {"rope_theta": 10000}).rope_theta == 10000.0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"hidden_size": 130}, "hidden_size=130 is not divisible by num_attention_heads=4"),
    ({"num_key_value_heads": 3}, "num_attention_heads=4 is not divisible by num_key_value"),
    ({"hidden_size": 12, "num_attention_heads": 4, "num_key_value_heads": 1}, "odd"),
    ({"num_hidden_layers": 0}, "num_hidden_layers=0 must be >= 1"),
    ({"rms_norm_eps": 0.0}, "rms_norm_eps=0.0 must be > 0"),
    ({"hidden_sise": 64}, "unknown model field; allowed: hidden_size"),
    ({"hidden_size": "wide"}, "model.hidden_size = 'wide': expected int"),
    ({"num_hidden_layers": 2.5}, "expected int"),
    ({"tie_word_embeddings": 1}, "expected bool"),
])
def test_impossible_shapes_are_one_line_errors(overrides: dict[str, object],
                                               message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        resolve_model_config("tiny", overrides)
    assert "\n" not in str(info.value)


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="tiny, small, 1b, seed-coder-8b"):
        resolve_model_config("7b")


def test_flops_per_token_formula() -> None:
    cfg = PRESETS["seed-coder-8b"]
    n = parameter_count(cfg, SEED_CODER_VOCAB) - SEED_CODER_VOCAB * 4096 - 4096
    expected = 6 * n + 12 * 32 * 4096 * 8192
    assert flops_per_token(cfg, SEED_CODER_VOCAB, 8192) == pytest.approx(expected, rel=1e-9)


def test_regression_head_is_the_same_decoder_with_one_output() -> None:
    """The quality scorer's model: the same builder, a 1-output head instead of the LM head."""
    import torch

    cfg = resolve_model_config("tiny", {"num_hidden_layers": 2})
    lm = build_model(cfg, vocab_size=1024, seed=3, **IDS)
    scorer = build_model(cfg, vocab_size=1024, seed=3, head="regression", **IDS)
    assert type(scorer).__name__ == "LlamaForSequenceClassification"
    assert (scorer.config.num_labels, scorer.config.problem_type) == (1, "regression")
    assert real_count(scorer) == parameter_count(cfg, 1024, head="regression")
    assert real_count(lm) - real_count(scorer) == 1024 * 128 - 128  # LM head -> 1 output
    assert torch.equal(scorer.model.layers[0].mlp.up_proj.weight,
                       lm.model.layers[0].mlp.up_proj.weight)  # same seed, same decoder
    regression_flops = flops_per_token(cfg, 1024, 128, head="regression")
    assert flops_per_token(cfg, 1024, 128) - regression_flops == 6 * (1024 * 128 - 128)
    ids = torch.tensor([[5, 6, 7, 1, 1], [5, 6, 7, 8, 9]])  # PAD=1 pads the first row
    out = scorer(input_ids=ids, attention_mask=(ids != 1).long(),
                 labels=torch.tensor([0.2, 0.9]))
    assert out.logits.shape == (2, 1) and out.loss.ndim == 0


def test_regression_from_pretrained_keeps_the_decoder_and_seeds_the_new_head(
        tmp_path: Path) -> None:
    import torch

    from codekiln_train.models import regression_from_pretrained

    cfg = resolve_model_config("tiny", {"num_hidden_layers": 1})
    base = build_model(cfg, vocab_size=1000, seed=1, **IDS)
    base.save_pretrained(str(tmp_path))
    first, again, other = (regression_from_pretrained(str(tmp_path), pad_token_id=1,
                                                      vocab_size=1024, seed=seed)
                           for seed in (5, 5, 6))
    assert first.get_input_embeddings().num_embeddings == 1024  # grown to the tokenizer
    assert torch.equal(first.model.layers[0].mlp.up_proj.weight,
                       base.model.layers[0].mlp.up_proj.weight)
    assert torch.equal(first.score.weight, again.score.weight)
    assert not torch.equal(first.score.weight, other.score.weight)
    assert first.config.num_labels == 1 and first.config.pad_token_id == 1


def test_set_rope_theta_equals_building_with_it() -> None:
    import torch

    cfg = resolve_model_config("tiny", {"num_hidden_layers": 1})
    model = build_model(cfg, vocab_size=256, seed=1, **IDS)
    wanted = build_model(resolve_model_config("tiny", {"num_hidden_layers": 1,
                                                       "rope_theta": 1e4}),
                         vocab_size=256, seed=1, **IDS)
    tokens = torch.arange(40).reshape(1, 40) % 256
    before = model(tokens).logits
    set_rope_theta(model, 1e4)
    assert model.config.rope_parameters["rope_theta"] == 1e4
    assert not torch.allclose(before, model(tokens).logits)
    assert torch.allclose(model(tokens).logits, wanted(tokens).logits, atol=1e-6)


def test_tiny_shards_manifest_carries_vocab_and_special_ids(tiny_shards: TinyShards) -> None:
    """The fixture the pretraining tests share, made by the real curate commands."""
    from codekiln_core.shards import PackedShards

    for directory in (tiny_shards.code, tiny_shards.extra, tiny_shards.validation):
        manifest = json.loads((directory / "manifest.json").read_text())
        assert manifest["seq_len"] == tiny_shards.seq_len
        assert manifest["vocab_size"] == tiny_shards.vocab_size == 1024
        assert manifest["special_ids"]["bos"] == 0 and manifest["special_ids"]["eos"] == 2
        assert len(manifest["shards"]) >= 2
    code = PackedShards(tiny_shards.code)
    assert len(code) > 300
    assert int(code.sequence(0).max()) < tiny_shards.vocab_size
