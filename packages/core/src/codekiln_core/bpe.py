"""Byte-level BPE training with the Seed-Coder special tokens, for every package that
trains a tokenizer: curate's pretraining tokenizer and the quality scorer's tokenizer
(trained on its labels when no tokenizer is given). Stage packages never import each other,
so the one trainer lives here.

``tokenizers`` and ``transformers`` are imported inside the functions: core does not depend
on them; the packages that call these functions do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError
from codekiln_core.special_tokens import (
    BOS,
    EOS,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    PAD,
    SEP,
    SPECIAL_TOKENS,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

#: Every byte plus every special token: the smallest vocabulary a byte-level BPE can have.
MIN_VOCAB = 256 + len(SPECIAL_TOKENS)


def train_byte_level_bpe(texts: Iterable[str] | Iterable[list[str]], vocab_size: int, *,
                         min_frequency: int = 2, key: str = "vocab_size") -> Tokenizer:
    """A byte-level BPE over ``texts`` (strings, or batches of them); the special tokens come
    first, so BOS=0, PAD=1, EOS=2 as in Seed-Coder. Every byte is representable, so no text
    is ever out of vocabulary. ``key`` names the setting in the error of a too-small vocab."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < MIN_VOCAB:
        raise ConfigError(f"{key} {vocab_size} is too small; a byte-level BPE needs at least "
                          f"{MIN_VOCAB} (256 bytes + {len(SPECIAL_TOKENS)} special tokens)")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def hf_tokenizer(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    """The Hugging Face wrapper any trainer loads with ``AutoTokenizer``: BOS/EOS/PAD named,
    the FIM and SEP tokens as additional special tokens (``save_pretrained`` writes it)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, pad_token=PAD,
        additional_special_tokens=[FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, SEP],
        clean_up_tokenization_spaces=False)
