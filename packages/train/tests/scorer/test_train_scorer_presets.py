"""Scorer presets: shapes built by train's model builder, parameter counts, and one-line
errors for bad overrides."""

from __future__ import annotations

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.models import build_model, parameter_count
from codekiln_train.scorer.presets import PRESETS, load_scorer_recipe

RUN = ["labels=labels", "output=out"]  # not read: only validated


def test_1p3b_preset_is_the_papers_llama2_size_counted_on_the_meta_device() -> None:
    recipe = load_scorer_recipe(None, [*RUN, "preset=1.3b"])
    shape = recipe.decoder_config()
    model = build_model(shape, vocab_size=32_000, bos_token_id=None, eos_token_id=None,
                        pad_token_id=0, device="meta", head="regression")
    counted = sum(p.numel() for p in model.parameters())
    assert counted == parameter_count(shape, 32_000, head="regression")
    assert 1.2e9 < counted < 1.4e9
    config = model.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads,
            config.intermediate_size, config.max_position_embeddings) == (
        2048, 24, 16, 5504, 2048)
    assert config.num_labels == 1 and config.problem_type == "regression"
    assert config.pad_token_id == 0 and type(model).__name__ == "LlamaForSequenceClassification"


def test_tiny_preset_counts_match_and_stay_small() -> None:
    shape = load_scorer_recipe(None, RUN).decoder_config()
    assert parameter_count(shape, 1024, head="regression") < 500_000


def test_recipe_keys_override_the_preset() -> None:
    recipe = load_scorer_recipe(None, [*RUN, "preset=1.3b", "epochs=3", "learning_rate=3e-4"])
    assert (recipe.epochs, recipe.learning_rate, recipe.hidden_size) == (3, 3e-4, 2048)
    assert PRESETS["1.3b"].epochs == 1  # the preset itself is untouched
    assert recipe.training_settings()["learning_rate"] == 3e-4
    assert "labels" not in recipe.training_settings()


@pytest.mark.parametrize(("overrides", "needles"), [
    (["epoch=2"], ["epoch", "allowed keys", "epochs"]),
    (["epochs=zero"], ["epochs", "zero"]),
    (["num_attention_heads=3"], ["preset 'tiny'", "hidden_size=64", "num_attention_heads=3"]),
    (["num_key_value_heads=3"], ["num_attention_heads=4", "num_key_value_heads=3"]),
    (["preset=7b"], ["7b", "1.3b", "tiny"]),
    ([], ["labels", "required"]),
])
def test_bad_preset_or_override_is_one_line_error(overrides: list[str],
                                                  needles: list[str]) -> None:
    run = [] if not overrides else RUN
    with pytest.raises(ConfigError) as info:
        load_scorer_recipe(None, [*run, *overrides])
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message
