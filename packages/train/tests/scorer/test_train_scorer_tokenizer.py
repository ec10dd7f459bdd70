"""The scorer's tokenizer: trained on the labels with codekiln's special tokens when none is
given, else loaded (with a pad token added when it has none); bad paths are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.special_tokens import PAD
from codekiln_train.scorer.tokenizer import FALLBACK_PAD, load_tokenizer, scorer_tokenizer

TEXTS = ["def add(a, b):\n    return a + b\n", '{"line": 1, "width": 3}\n'] * 30


def test_without_a_tokenizer_one_is_trained_on_the_texts(tmp_path: Path) -> None:
    tokenizer = scorer_tokenizer(None, None, TEXTS, 300)
    assert tokenizer.pad_token == PAD and tokenizer.pad_token_id == 1
    assert len(tokenizer) <= 300 and tokenizer.padding_side == "right"
    tokenizer.save_pretrained(str(tmp_path))
    loaded = scorer_tokenizer(tmp_path, None, [], 300)  # --tokenizer wins over training
    assert loaded(TEXTS[0])["input_ids"] == tokenizer(TEXTS[0])["input_ids"]


def test_a_tokenizer_without_pad_gets_one(tmp_path: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    from codekiln_core.bpe import train_byte_level_bpe

    bare = PreTrainedTokenizerFast(tokenizer_object=train_byte_level_bpe(TEXTS, 300))
    bare.save_pretrained(str(tmp_path))
    loaded = scorer_tokenizer(None, tmp_path, [], 300)  # the --init checkpoint's tokenizer
    assert loaded.pad_token == FALLBACK_PAD and loaded.pad_token_id == len(loaded) - 1


def test_a_missing_directory_is_one_line_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^init .*nope: no such directory"):
        load_tokenizer(tmp_path / "nope", key="init")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"^tokenizer .*empty: cannot load a tokenizer"):
        load_tokenizer(tmp_path / "empty")
