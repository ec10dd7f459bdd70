"""Fill-in-the-middle strings of training documents, SPM (default) or PSM layout.

The split itself (:func:`fim_split`, uniform character-level cut points keyed by
``(seed, doc id, copy)``) lives in ``codekiln_core.fim``, shared with eval's random-span
infilling benchmark; this module formats and inverts the split documents (seed-coder.md §4).
"""

from __future__ import annotations

from codekiln_core.fim import FIM_MODES, FimConfig, FimMode, FimSplit, fim_split
from codekiln_core.special_tokens import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

__all__ = ["FIM_MODES", "FimConfig", "FimMode", "FimSplit", "fim_pieces", "fim_split",
           "format_fim", "invert_fim"]


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
