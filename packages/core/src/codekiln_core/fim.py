"""Fill-in-the-middle in one place: the character-level split and the prompt ids.

Curate splits training documents with :func:`fim_split`; eval builds its random-span
infilling tasks with the same draw. Serve and eval build prompts with
:func:`fim_prompt_ids`, which lays the ids out as the shards do (docs/shards.md): each part
tokenized on its own with special-token text kept plain, joined with the sentinel ids, no BOS.

The split of a document depends only on ``(seed, doc id, copy)``, never on its position in
a stream, so sharding, worker count and input order cannot change which documents are cut
or where. Cut points are uniform over character positions, so a middle may start or end
mid-word (seed-coder.md §4). Nothing heavy is imported: tokenizers are passed in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from codekiln_core.errors import ConfigError
from codekiln_core.special_tokens import FIM_LAYOUTS, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

FimMode = Literal["spm", "psm"]
FIM_MODES: tuple[str, ...] = tuple(FIM_LAYOUTS)
_TWO_64 = float(1 << 64)

#: Sentinel spellings we recognise, (prefix, suffix, middle): Seed-Coder's first, then the
#: StarCoder, Qwen2.5-Coder / CodeGemma-style and DeepSeek-Coder names.
KNOWN_FIM_TOKENS: tuple[tuple[str, str, str], ...] = (
    (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE),
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ("<\uff5cfim\u2581begin\uff5c>", "<\uff5cfim\u2581hole\uff5c>", "<\uff5cfim\u2581end\uff5c>"),
)


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


class FimUnsupportedError(ValueError):
    """The tokenizer has no FIM tokens (serve answers a one-line 400, eval a ConfigError)."""


@dataclass(frozen=True)
class FimTokens:
    """The ids of one tokenizer's three sentinels."""

    prefix: int
    suffix: int
    middle: int
    names: tuple[str, str, str]

    def id_of(self, role: str) -> int:
        return {"prefix": self.prefix, "suffix": self.suffix, "middle": self.middle}[role]

    def name_of(self, role: str) -> str:
        return dict(zip(("prefix", "suffix", "middle"), self.names, strict=True))[role]


def find_fim_tokens(tokenizer: Any) -> FimTokens | None:
    """The first known sentinel triple the tokenizer holds as single tokens, or None."""
    vocab = tokenizer.get_vocab()
    for names in KNOWN_FIM_TOKENS:
        if all(name in vocab for name in names):
            prefix, suffix, middle = (int(vocab[name]) for name in names)
            return FimTokens(prefix, suffix, middle, names)
    return None


def encode_plain(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` with no special tokens added and none recognised in the text."""
    encoded = tokenizer(text, add_special_tokens=False, split_special_tokens=True)
    return list(encoded["input_ids"])


def check_fim(tokens: FimTokens | None, layout: str) -> FimTokens:
    """``tokens`` when FIM prompts can be built with them in ``layout``; else a one-line error."""
    if tokens is None:
        raise FimUnsupportedError(
            "this model's tokenizer has no fill-in-the-middle tokens (looked for "
            f"{', '.join(t[0] for t in KNOWN_FIM_TOKENS)}); send the request without `suffix`")
    if layout not in FIM_LAYOUTS:
        raise FimUnsupportedError(f"unknown FIM layout {layout!r}; use spm or psm")
    return tokens


def fim_layout_ids(tokens: FimTokens, layout: str, prefix_ids: list[int],
                   suffix_ids: list[int]) -> list[int]:
    """Sentinels and already-encoded parts in ``layout`` order, ending with the middle id."""
    parts = {"prefix": prefix_ids, "suffix": suffix_ids, "middle": []}
    ids: list[int] = []
    for _sentinel, part in FIM_LAYOUTS[layout]:  # each sentinel, then the part it opens
        ids.append(tokens.id_of(part))
        ids.extend(parts[part])
    return ids


def fim_prompt_ids(tokenizer: Any, tokens: FimTokens | None, prefix: str, suffix: str,
                   layout: str = "spm") -> list[int]:
    """The FIM prompt ids, ending with the middle sentinel (the model writes the middle)."""
    found = check_fim(tokens, layout)
    prefix_ids = encode_plain(tokenizer, prefix) if prefix else []
    suffix_ids = encode_plain(tokenizer, suffix) if suffix else []
    return fim_layout_ids(found, layout, prefix_ids, suffix_ids)


def fim_template(tokens: FimTokens, layout: str, prefix: str, suffix: str) -> str:
    """The prompt as text with placeholders, for clients that fill a template themselves."""
    fill = {"prefix": prefix, "suffix": suffix, "middle": ""}
    return "".join(tokens.name_of(part) + fill[part] for _s, part in FIM_LAYOUTS[layout])
