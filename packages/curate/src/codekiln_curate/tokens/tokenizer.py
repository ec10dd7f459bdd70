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
from codekiln_core.special_tokens import (
    BOS,
    EOS,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    FIM_TOKENS,
    PAD,
    SEP,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class SpecialIds:
    """Ids the packer needs: end of document, padding, and the three FIM sentinels."""

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
    return [t for t in FIM_TOKENS if tokenizer.token_to_id(t) is None]


def add_missing_specials(tokenizer: Tokenizer) -> list[str]:
    """Give an existing tokenizer the FIM/SEP tokens it lacks; returns what was added."""
    from tokenizers import AddedToken

    absent = [t for t in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, SEP)
              if tokenizer.token_to_id(t) is None]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                  for t in absent])
    return absent


def special_ids(tokenizer: Tokenizer, tokenizer_dir: Path, *, need_fim: bool) -> SpecialIds:
    """Resolve EOS/PAD (from tokenizer_config.json, else the Seed-Coder names) and FIM ids."""
    config = _config(tokenizer_dir)
    eos_name = _token_name(config.get("eos_token")) or EOS
    pad_name = _token_name(config.get("pad_token")) or PAD
    eos = tokenizer.token_to_id(eos_name)
    if eos is None:
        raise ConfigError(f"tokenizer {tokenizer_dir} has no end-of-document token {eos_name!r}"
                          "; set eos_token in its tokenizer_config.json")
    pad = tokenizer.token_to_id(pad_name)
    missing = missing_fim_tokens(tokenizer)
    if need_fim and missing:
        raise ConfigError(f"tokenizer {tokenizer_dir} lacks FIM tokens {', '.join(missing)}; "
                          "run `codekiln curate tokenizer adopt` on it or pass --fim-rate 0")
    ids = [tokenizer.token_to_id(t) for t in FIM_TOKENS]
    prefix, suffix, middle = (-1 if i is None else i for i in ids)
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
