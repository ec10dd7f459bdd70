"""Fill-in-the-middle prompts: the request's ``prompt`` is the prefix, ``suffix`` the suffix.

The ids follow the training layout (docs/shards.md): each part is tokenized on its own with
special-token text treated as plain text, then joined with the sentinel ids, in SPM order
(Seed-Coder's) unless PSM is configured. No BOS is added: training documents have none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codekiln_core.special_tokens import FIM_LAYOUTS, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

#: Sentinel spellings we recognise, (prefix, suffix, middle): Seed-Coder's first, then the
#: StarCoder, Qwen2.5-Coder / CodeGemma-style and DeepSeek-Coder names.
KNOWN_FIM_TOKENS: tuple[tuple[str, str, str], ...] = (
    (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE),
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ("<\uff5cfim\u2581begin\uff5c>", "<\uff5cfim\u2581hole\uff5c>", "<\uff5cfim\u2581end\uff5c>"),
)


class FimUnsupportedError(ValueError):
    """The tokenizer has no FIM tokens; the API answers a one-line 400."""


@dataclass(frozen=True)
class FimTokens:
    """The ids of one tokenizer's three sentinels."""

    prefix: int
    suffix: int
    middle: int
    names: tuple[str, str, str]

    def id_of(self, role: str) -> int:
        return {"prefix": self.prefix, "suffix": self.suffix, "middle": self.middle}[role]


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


def fim_prompt_ids(tokenizer: Any, tokens: FimTokens | None, prefix: str, suffix: str,
                   layout: str = "spm") -> list[int]:
    """The FIM prompt ids, ending with the middle sentinel (the model writes the middle)."""
    if tokens is None:
        raise FimUnsupportedError(
            "this model's tokenizer has no fill-in-the-middle tokens (looked for "
            f"{', '.join(t[0] for t in KNOWN_FIM_TOKENS)}); send the request without `suffix`")
    if layout not in FIM_LAYOUTS:
        raise FimUnsupportedError(f"unknown FIM layout {layout!r}; use spm or psm")
    parts = {"prefix": prefix, "suffix": suffix, "middle": ""}
    ids: list[int] = []
    for _sentinel, part in FIM_LAYOUTS[layout]:  # each sentinel, then the part it opens
        ids.append(tokens.id_of(part))
        if parts[part]:
            ids.extend(encode_plain(tokenizer, parts[part]))
    return ids
