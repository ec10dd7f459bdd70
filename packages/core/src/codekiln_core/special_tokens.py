"""Seed-Coder special tokens (seed-coder.md §4), in core: curate writes them, train, serve and
posttrain read them. The ▁ in the names is U+2581, as in the release."""

from __future__ import annotations

BOS = "<[begin\u2581of\u2581sentence]>"
PAD = "<[PAD\u2581TOKEN]>"
EOS = "<[end\u2581of\u2581sentence]>"
FIM_PREFIX = "<[fim-prefix]>"
FIM_SUFFIX = "<[fim-suffix]>"
FIM_MIDDLE = "<[fim-middle]>"
SEP = "<[SEP\u2581TOKEN]>"

#: Order fixes the ids of a freshly trained tokenizer: BOS=0, PAD=1, EOS=2 as in Seed-Coder.
SPECIAL_TOKENS: tuple[str, ...] = (BOS, PAD, EOS, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, SEP)
FIM_TOKENS: tuple[str, ...] = (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)

#: FIM layouts by name. SPM is Seed-Coder's (and what editors send to it); PSM is the
#: StarCoder/Qwen order. Each lists the sentinel then the part that follows it.
FIM_LAYOUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "spm": ((FIM_SUFFIX, "suffix"), (FIM_PREFIX, "prefix"), (FIM_MIDDLE, "middle")),
    "psm": ((FIM_PREFIX, "prefix"), (FIM_SUFFIX, "suffix"), (FIM_MIDDLE, "middle")),
}
