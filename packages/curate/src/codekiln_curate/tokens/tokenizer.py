"""Read and inspect a tokenizer directory: its file, digest, FIM sentinels and special ids.

Shards read ``tokenizer.json`` with the ``tokenizers`` library directly (fast, no
transformers import). Training is core's (``codekiln_core.bpe``), which saves a full Hugging
Face directory so any trainer can load it with ``AutoTokenizer.from_pretrained``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError
from codekiln_core.fim import KNOWN_FIM_TOKENS, find_fim_tokens
from codekiln_core.special_tokens import (
    BOS,
    EOS,
    FIM_TOKENS,
    PAD,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class SpecialIds:
    """Ids the packer needs: end of document, padding, and the three FIM sentinels (-1 when
    the tokenizer has none)."""

    eos: int
    pad: int
    fim_prefix: int
    fim_suffix: int
    fim_middle: int


def tokenizer_file(tokenizer_dir: Path) -> Path:
    path = tokenizer_dir / TOKENIZER_FILE if tokenizer_dir.is_dir() else tokenizer_dir
    if not path.is_file():
        raise ConfigError(f"{tokenizer_dir} has no {TOKENIZER_FILE}; pass a directory written "
                          "by `codekiln curate tokenizer train` or a Hugging Face fast tokenizer")
    return path


def load_tokenizer(tokenizer_dir: Path) -> Tokenizer:
    from tokenizers import Tokenizer

    path = tokenizer_file(tokenizer_dir)
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:
        raise ConfigError(f"{path} is not a valid tokenizers file ({exc})") from exc


def tokenizer_hash(tokenizer_dir: Path) -> str:
    """sha256 of tokenizer.json: what the manifest pins shards to."""
    return hashlib.sha256(tokenizer_file(tokenizer_dir).read_bytes()).hexdigest()


def missing_fim_tokens(tokenizer: Tokenizer) -> list[str]:
    """The Seed-Coder FIM sentinels ``tokenizer`` lacks; none when it has any known triple
    (StarCoder's ``<fim_prefix>``..., Qwen's ``<|fim_prefix|>``...: it is used as it is)."""
    if find_fim_tokens(tokenizer) is not None:
        return []
    return [t for t in FIM_TOKENS if tokenizer.token_to_id(t) is None]


def add_missing_fim_tokens(tokenizer: Tokenizer) -> list[str]:
    """Give a tokenizer without FIM sentinels Seed-Coder's three (appended after its
    vocabulary, as special tokens); returns what was added."""
    from tokenizers import AddedToken

    absent = missing_fim_tokens(tokenizer)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                  for t in absent])
    return absent


def special_ids(tokenizer: Tokenizer, tokenizer_dir: Path, *, need_fim: bool) -> SpecialIds:
    """Resolve EOS/PAD (from tokenizer_config.json, else the Seed-Coder names) and the FIM
    ids: the tokenizer's own sentinels (any known spelling, ``codekiln_core.fim``), which
    serving and the infilling evaluations find the same way."""
    config = _config(tokenizer_dir)
    eos_name = _token_name(config.get("eos_token")) or EOS
    pad_name = _token_name(config.get("pad_token")) or PAD
    eos = tokenizer.token_to_id(eos_name)
    if eos is None:
        raise ConfigError(f"tokenizer {tokenizer_dir} has no end-of-document token {eos_name!r}"
                          "; set eos_token in its tokenizer_config.json")
    pad = tokenizer.token_to_id(pad_name)
    found = find_fim_tokens(tokenizer)
    if need_fim and found is None:
        raise ConfigError(
            f"tokenizer {tokenizer_dir} has no fill-in-the-middle tokens (looked for "
            f"{', '.join(names[0] for names in KNOWN_FIM_TOKENS)}) and the FIM rate is above "
            f"0; add them with `codekiln curate tokenizer adopt {tokenizer_dir} --output DIR` "
            "(pretraining from its model then grows the embedding by their rows) or pass "
            "--fim-rate 0")
    prefix, suffix, middle = (found.prefix, found.suffix, found.middle) if found else (-1,) * 3
    return SpecialIds(eos, eos if pad is None else pad, prefix, suffix, middle)


def bos_id(tokenizer: Tokenizer, tokenizer_dir: Path) -> int | None:
    """BOS id (from tokenizer_config.json, else the Seed-Coder name); None when it has none."""
    name = _token_name(_config(tokenizer_dir).get("bos_token")) or BOS
    found = tokenizer.token_to_id(name)
    return None if found is None else int(found)


def _config(tokenizer_dir: Path) -> dict[str, object]:
    path = tokenizer_dir / "tokenizer_config.json"
    if not tokenizer_dir.is_dir() or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc})") from exc
    return data if isinstance(data, dict) else {}


def _token_name(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None
