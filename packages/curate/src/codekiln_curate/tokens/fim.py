"""Fill-in-the-middle: character-level split of one document, SPM (default) or PSM layout.

The split of a document depends only on ``(seed, doc id, copy)``, never on its position in
the stream, so sharding, worker count and input order cannot change which documents are
transformed or where they are cut. Cut points are uniform over character positions, so a
middle may start or end mid-word (spec §4).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from codekiln_core.errors import ConfigError
from codekiln_core.special_tokens import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

FimMode = Literal["spm", "psm"]
FIM_MODES: tuple[str, ...] = ("spm", "psm")
_TWO_64 = float(1 << 64)


@dataclass(frozen=True)
class FimConfig:
    """How often and how documents are turned into FIM examples."""

    rate: float = 0.5
    mode: FimMode = "spm"
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ConfigError(f"fim rate {self.rate} is outside [0, 1]; use e.g. 0.5 (regular "
                              "pretraining) or 0.1 (continued pretraining)")
        if self.mode not in FIM_MODES:
            raise ConfigError(f"fim mode {self.mode!r} is unknown; use one of {FIM_MODES}")


@dataclass(frozen=True)
class FimSplit:
    prefix: str
    middle: str
    suffix: str


def _draws(seed: int, doc_id: str, copy: int) -> tuple[float, int, int]:
    """One uniform in [0, 1) and two 64-bit integers, from a hash of the document's key."""
    key = f"{seed}\x00{doc_id}" if copy == 0 else f"{seed}\x00{doc_id}\x00{copy}"
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=24).digest()
    coin = int.from_bytes(digest[:8], "little") / _TWO_64
    return coin, int.from_bytes(digest[8:16], "little"), int.from_bytes(digest[16:], "little")


def fim_split(text: str, doc_id: str, config: FimConfig, copy: int = 0) -> FimSplit | None:
    """The (prefix, middle, suffix) of ``text``, or None when this document stays as is."""
    if config.rate <= 0.0 or not text:
        return None
    coin, first, second = _draws(config.seed, doc_id, copy)
    if coin >= config.rate:
        return None
    n = len(text) + 1  # cut positions 0..len(text), both ends included
    start, end = sorted((first % n, second % n))
    return FimSplit(text[:start], text[start:end], text[end:])


def format_fim(split: FimSplit, mode: FimMode = "spm") -> str:
    """The FIM string with sentinel text, e.g. ``<[fim-suffix]>S<[fim-prefix]>P<[fim-middle]>M``."""
    if mode == "spm":
        return f"{FIM_SUFFIX}{split.suffix}{FIM_PREFIX}{split.prefix}{FIM_MIDDLE}{split.middle}"
    return f"{FIM_PREFIX}{split.prefix}{FIM_SUFFIX}{split.suffix}{FIM_MIDDLE}{split.middle}"


def fim_pieces(split: FimSplit, mode: FimMode = "spm") -> tuple[str, str, str]:
    """The three texts in the order the layout places them (before the middle sentinel last)."""
    if mode == "spm":
        return split.suffix, split.prefix, split.middle
    return split.prefix, split.suffix, split.middle


def invert_fim(text: str) -> str:
    """The original document of a :func:`format_fim` string; other strings come back as is."""
    if text.startswith(FIM_SUFFIX):
        first, second = FIM_PREFIX, FIM_SUFFIX  # SPM: suffix, prefix, middle
    elif text.startswith(FIM_PREFIX):
        first, second = FIM_SUFFIX, FIM_PREFIX  # PSM: prefix, suffix, middle
    else:
        return text
    head = len(second)
    cut_a = text.find(first, head)
    cut_b = text.find(FIM_MIDDLE, cut_a + len(first)) if cut_a >= 0 else -1
    if cut_b < 0:
        return text
    part_one, part_two = text[head:cut_a], text[cut_a + len(first):cut_b]
    middle = text[cut_b + len(FIM_MIDDLE):]
    if second == FIM_SUFFIX:  # SPM: part_one is the suffix, part_two the prefix
        return part_two + middle + part_one
    return part_one + middle + part_two
