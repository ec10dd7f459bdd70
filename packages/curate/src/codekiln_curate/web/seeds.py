"""Heuristic seed labels for the recall classifier, from the page's own code blocks.

Seed-Coder built its gold set by scoring candidate pages (seed-coder.md §3); without such a set we
label by rule, and the rule is a heuristic, not ground truth:

- positive: the page has at least one code block whose lines look like code (a share of the
  lines carry code punctuation or start with a common keyword);
- negative: the page has no ``<pre>``/``<code>`` tag at all;
- neither (code tags but nothing code-like, e.g. a ``<pre>`` of plain prose or a table of
  numbers): left out of both sets, counted as ``ambiguous``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from codekiln_curate.web.recipes import SeedsRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

_FENCE = re.compile(r"^(`{3,})[^\n`]*\n(.*?)\n\1$", re.MULTILINE | re.DOTALL)
_CODE_LINE = re.compile(
    r"[;{}=<>\[\]()]|^\s*(?:def|class|import|from|return|if|for|while|#include|function|var"
    r"|let|const|public|private|static|void|int|char|struct|fn|func|package)\b"
    r"|^\s*(?:\$|>>>|%|#)\s")
#: Share of non-blank lines that must look like code for a block to count as code.
MIN_CODE_LINE_SHARE = 0.3


def code_blocks(text: str) -> list[str]:
    """Bodies of the ``` fenced blocks the extractor wrote."""
    return [match.group(2) for match in _FENCE.finditer(text)]


def looks_like_code(block: str) -> bool:
    lines = [line for line in block.splitlines() if line.strip()]
    if not lines:
        return False
    code_like = sum(1 for line in lines if _CODE_LINE.search(line))
    return code_like / len(lines) >= MIN_CODE_LINE_SHARE


def seed_label(page: dict[str, Any]) -> str:
    """``positive``, ``negative`` or ``ambiguous`` for one extracted page."""
    if not page.get("has_code_tags"):
        return "negative"
    if any(looks_like_code(block) for block in code_blocks(str(page.get("text") or ""))):
        return "positive"
    return "ambiguous"


def split_seeds(pages: Iterable[dict[str, Any]],
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(positives, negatives, number of ambiguous pages left out)."""
    positives: list[dict[str, Any]] = []
    negatives: list[dict[str, Any]] = []
    ambiguous = 0
    for page in pages:
        label = seed_label(page)
        if label == "positive":
            positives.append(page)
        elif label == "negative":
            negatives.append(page)
        else:
            ambiguous += 1
    return positives, negatives, ambiguous


def write_seeds(recipe: SeedsRecipe, run: LineageRun) -> dict[str, int]:
    """OUTPUT/positives and OUTPUT/negatives (pages tables) and stats.json."""
    from codekiln_core.fsio import atomic_write_json
    from codekiln_curate.web.page_table import read_pages, write_pages

    positives, negatives, ambiguous = split_seeds(read_pages(recipe.pages))
    for name, rows in (("positives", positives), ("negatives", negatives)):
        (recipe.output / name).mkdir(parents=True, exist_ok=True)
        write_pages(recipe.output / name / "pages.parquet", rows)
    stats = {"positives": len(positives), "negatives": len(negatives), "ambiguous": ambiguous}
    atomic_write_json(recipe.output / "stats.json", stats)
    run.log_metrics(stats)
    run.log_output(recipe.output, name="web-seeds")
    return stats
