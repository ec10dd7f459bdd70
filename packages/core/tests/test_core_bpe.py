"""The one byte-level BPE trainer: Seed-Coder's special ids, every byte representable, a
Hugging Face wrapper that round-trips through save_pretrained, and a one-line error for a
vocabulary too small to hold the bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.special_tokens import BOS, EOS, FIM_MIDDLE, PAD, SPECIAL_TOKENS

pytest.importorskip("tokenizers")  # declared by the members that train tokenizers

TEXTS = ["def add(a, b):\n    return a + b\n", "class Point:\n    x: int = 0\n"] * 20


def test_specials_come_first_and_every_byte_round_trips(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from codekiln_core.bpe import MIN_VOCAB, hf_tokenizer, train_byte_level_bpe

    raw = train_byte_level_bpe(TEXTS, MIN_VOCAB + 40)
    assert [raw.token_to_id(t) for t in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    assert MIN_VOCAB < raw.get_vocab_size() <= MIN_VOCAB + 40  # merges learned, within budget
    unseen = "naïve → λx: 中文 \x00\x7f"
    assert raw.decode(raw.encode(unseen).ids) == unseen
    hf_tokenizer(raw).save_pretrained(str(tmp_path))
    loaded = AutoTokenizer.from_pretrained(str(tmp_path))
    assert (loaded.bos_token, loaded.pad_token, loaded.eos_token) == (BOS, PAD, EOS)
    assert (loaded.bos_token_id, loaded.pad_token_id, loaded.eos_token_id) == (0, 1, 2)
    assert FIM_MIDDLE in loaded.all_special_tokens
    assert loaded.decode(loaded(TEXTS[0])["input_ids"]) == TEXTS[0]


def test_too_small_a_vocabulary_is_one_line_naming_the_key() -> None:
    from codekiln_core.bpe import MIN_VOCAB, train_byte_level_bpe

    with pytest.raises(ConfigError) as info:
        train_byte_level_bpe(TEXTS, 100, key="tokenizer_vocab")
    assert str(info.value).startswith("tokenizer_vocab 100 is too small")
    assert str(MIN_VOCAB) in str(info.value) and "\n" not in str(info.value)
