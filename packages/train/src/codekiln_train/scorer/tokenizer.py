"""The scorer's tokenizer: any Hugging Face tokenizer directory, or a byte-level BPE trained
on the labels themselves when none is given (so the tiny preset runs with nothing else).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|eos|>"


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    """A tokenizer from ``path`` with a pad token (added if the tokenizer has none)."""
    from transformers import AutoTokenizer

    if not path.is_dir():
        raise ConfigError(f"--tokenizer {path}: no such directory; pass a Hugging Face "
                          "tokenizer directory (tokenizer.json + tokenizer_config.json)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"--tokenizer {path}: cannot load a tokenizer ({first}); "
                          "pass a directory written by save_pretrained") from exc
    ensure_pad_token(tokenizer)
    return tokenizer


def ensure_pad_token(tokenizer: PreTrainedTokenizerBase) -> None:
    """The regression head pools the last non-pad token, so pad must be its own token."""
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": PAD})
    tokenizer.padding_side = "right"


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerBase:
    """A byte-level BPE (GPT-2 style pre-tokenization: every byte is representable)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core, pad_token=PAD, bos_token=BOS, eos_token=EOS)
    ensure_pad_token(tokenizer)
    return tokenizer
