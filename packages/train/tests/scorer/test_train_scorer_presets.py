"""Scorer presets: shapes, parameter counts, and one-line errors for bad overrides."""

from __future__ import annotations

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.scorer.presets import PRESETS, llama_config, load_preset, parameter_count


def test_1p3b_preset_is_the_papers_llama2_size_counted_on_the_meta_device() -> None:
    import torch
    from transformers import LlamaForSequenceClassification

    config = load_preset("1.3b")
    shape = llama_config(config, vocab_size=32_000, pad_token_id=0)
    with torch.device("meta"):  # shapes only: nothing is allocated
        model = LlamaForSequenceClassification(shape)
    counted = sum(p.numel() for p in model.parameters())
    assert counted == parameter_count(config, 32_000)
    assert 1.2e9 < counted < 1.4e9
    assert (shape.hidden_size, shape.num_hidden_layers, shape.num_attention_heads,
            shape.intermediate_size) == (2048, 24, 16, 5504)
    assert shape.num_labels == 1 and shape.problem_type == "regression"
    assert shape.pad_token_id == 0


def test_tiny_preset_counts_match_and_stay_small() -> None:
    config = load_preset("tiny")
    assert parameter_count(config, 1024) < 500_000


def test_overrides_apply_and_are_validated() -> None:
    config = load_preset("tiny", ["epochs=3", "learning_rate=3e-4"])
    assert (config.epochs, config.learning_rate) == (3, 3e-4)
    assert PRESETS["tiny"].epochs == 1  # the preset itself is untouched


@pytest.mark.parametrize(("args", "needles"), [
    (("tiny", ["epoch=2"]), ["epoch", "allowed keys", "epochs"]),
    (("tiny", ["epochs=zero"]), ["epochs", "zero"]),
    (("tiny", ["num_heads=3"]), ["hidden_size", "num_heads"]),
    (("7b", []), ["7b", "1.3b", "tiny"]),
])
def test_bad_preset_or_override_is_one_line_error(args: tuple[str, list[str]],
                                                  needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_preset(*args)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message
