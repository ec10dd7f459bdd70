"""Released weights: a checkpoint's config.json read as a shape, the recipe's `model.from`
section, the shards' tokenizer checked against the model's, and the embedding grown with
mean rows (under ZeRO-3 too: tests/pretrain/test_train_pretrain_from.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.models.released import (
    check_tokenizer_extends,
    grow_vocabulary,
    released_shape,
    rope_of,
)
from codekiln_train.recipe import ModelSection

SEED_CODER_CONFIG = Path(__file__).parent.parent / "data" / "seed-coder-8b-base" / "config.json"


def test_shape_from_a_released_config() -> None:
    config = json.loads(SEED_CODER_CONFIG.read_text())
    shape = released_shape(config, source="x")
    assert (shape.hidden_size, shape.intermediate_size, shape.num_hidden_layers) == \
        (4096, 14336, 32)
    assert (shape.num_attention_heads, shape.num_key_value_heads, shape.head_dim) == (32, 8, 128)
    assert (shape.rope_theta, shape.max_position_embeddings) == (500_000.0, 32768)
    assert shape.tie_word_embeddings is False


def test_both_rope_layouts_and_scaling_are_read() -> None:
    assert rope_of({"rope_theta": 5e5}) == (5e5, "default")
    assert rope_of({"rope_parameters": {"rope_theta": 1e5, "rope_type": "default"}}) == \
        (1e5, "default")
    assert rope_of({"rope_theta": 5e5, "rope_scaling": {"rope_type": "llama3"}}) == \
        (5e5, "llama3")
    assert rope_of({}) == (10_000.0, "default")


def test_other_architectures_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"model_type 'gpt2' is not supported.*llama, mistral, "
                                          "qwen2") as info:
        released_shape({"model_type": "gpt2"}, source="model.from 'gpt2'")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("section", "expected"), [
    ({}, "exactly one of preset"),
    ({"preset": "tiny", "from": "org/name"}, "exactly one of preset"),
    ({"from": "org/name", "hidden_size": 64}, "hidden_size cannot change"),
])
def test_model_section_wants_one_start(section: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        ModelSection.model_validate(section)


def test_from_keeps_context_and_rope_overrides() -> None:
    section = ModelSection.model_validate({"from": "org/name", "rope_theta": 1e6,
                                           "max_position_embeddings": 65536})
    assert section.from_ == "org/name"
    assert section.overrides == {"rope_theta": 1e6, "max_position_embeddings": 65536}
    assert section.model_dump()["from"] == "org/name"  # lineage records the key as written


def _tokenizer(directory: Path, extra: list[str] = ()) -> Path:
    """A small real byte-level BPE with ``extra`` special tokens appended."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["def f(x):\n    return x + 1\n"] * 4, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in extra])
    directory.mkdir(parents=True)
    tok.save(str(directory / "tokenizer.json"))
    return directory


def test_the_shards_tokenizer_must_extend_the_models(tmp_path: Path) -> None:
    model = _tokenizer(tmp_path / "model")
    rows = json.loads((model / "tokenizer.json").read_text())["model"]["vocab"].__len__()
    same = check_tokenizer_extends(model, model, rows=rows, source="s")
    grown = check_tokenizer_extends(model, _tokenizer(tmp_path / "fim", ["<fim_prefix>",
                                                                         "<fim_suffix>"]),
                                    rows=rows, source="s")
    assert grown == same + 2
    other = tmp_path / "other"
    other.mkdir()
    (other / "tokenizer.json").write_text(
        (model / "tokenizer.json").read_text().replace('"<|endoftext|>"', '"<|eot|>"'))
    wrong = re.escape("is not the model's: token '<|endoftext|>'")
    with pytest.raises(ConfigError, match=wrong) as info:
        check_tokenizer_extends(model, other, rows=rows, source="model.from 'm'")
    assert "\n" not in str(info.value) and "curate tokenizer adopt" in str(info.value)


def _tiny_causal_lm(tied: bool) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=tied))


@pytest.mark.parametrize("tied", [True, False])
def test_new_rows_are_the_mean_of_the_old(tied: bool) -> None:
    import torch

    model = _tiny_causal_lm(tied)
    before = model.get_input_embeddings().weight.detach().clone()
    head = model.get_output_embeddings().weight.detach().clone()
    assert grow_vocabulary(model, 43) == 3 and grow_vocabulary(model, 40) == 0
    after = model.get_input_embeddings().weight
    assert after.shape == (43, 16) and model.config.vocab_size == 43
    assert torch.equal(after[:40], before)
    assert torch.allclose(after[40:], before.mean(dim=0).expand(3, 16))
    out = model.get_output_embeddings().weight
    assert (out is after) == tied
    assert torch.allclose(out[40:], head.mean(dim=0).expand(3, 16))
