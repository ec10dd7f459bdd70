"""The scorer's tokenizer: any Hugging Face tokenizer directory, the ``--init`` checkpoint's,
or, when neither is given, a byte-level BPE trained on the training split's files (so the
tiny preset runs with nothing else) by core's one BPE trainer, with the Seed-Coder special
tokens of every codekiln tokenizer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

#: Added only to a loaded tokenizer that has no pad token.
FALLBACK_PAD = "<|pad|>"


def load_tokenizer(path: Path, *, key: str = "tokenizer") -> PreTrainedTokenizerBase:
    """A tokenizer from ``path`` with a pad token (added if the tokenizer has none)."""
    from transformers import AutoTokenizer

    if not path.is_dir():
        raise ConfigError(f"{key} {path}: no such directory; pass a Hugging Face tokenizer "
                          "directory (tokenizer.json + tokenizer_config.json)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{key} {path}: cannot load a tokenizer ({first}); "
                          "pass a directory written by save_pretrained") from exc
    ensure_pad_token(tokenizer)
    return tokenizer


def ensure_pad_token(tokenizer: PreTrainedTokenizerBase) -> None:
    """The regression head pools the last non-pad token, so pad must be its own token."""
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": FALLBACK_PAD})
    tokenizer.padding_side = "right"


def labels_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerBase:
    """A byte-level BPE of at most ``vocab_size`` tokens trained on ``texts``."""
    from codekiln_core.bpe import hf_tokenizer, train_byte_level_bpe

    tokenizer = hf_tokenizer(train_byte_level_bpe(texts, vocab_size, key="tokenizer_vocab"))
    ensure_pad_token(tokenizer)
    return tokenizer


def scorer_tokenizer(tokenizer_dir: Path | None, init: Path | None, texts: Iterable[str],
                     vocab_size: int) -> PreTrainedTokenizerBase:
    """``--tokenizer``, else the ``--init`` checkpoint's, else one trained on ``texts``."""
    if tokenizer_dir is not None:
        return load_tokenizer(tokenizer_dir)
    if init is not None:
        return load_tokenizer(init, key="init")
    return labels_tokenizer(texts, vocab_size)
