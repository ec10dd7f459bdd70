"""Extract web pages: raw HTML -> pages.parquet (text with code kept) + drops.

Output directory:
  pages.parquet    id, url, path, title, text, has_code_tags, num_code_blocks, num_words,
                   category, hints
  dropped.parquet  id, url, path, num_words, reason   (nothing is lost silently)
  stats.json       pages, kept, dropped per reason, with/without code tags, per category
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_json
from codekiln_curate.engine.storage import write_parquet
from codekiln_curate.web.categories import tag_category
from codekiln_curate.web.html import extract
from codekiln_curate.web.page_table import page_schema
from codekiln_curate.web.pages import iter_pages
from codekiln_curate.web.recipes import DEFAULT_MIN_WORDS, ExtractRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun


@dataclass
class ExtractResult:
    out_dir: Path
    pages: Path
    stats: dict[str, Any]


def extract_pages(source: Path, output: Path, *, min_words: int = DEFAULT_MIN_WORDS,
                  html_column: str = "html") -> ExtractResult:
    """Extract every page of ``source``; short pages go to dropped.parquet with a reason."""
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for raw in iter_pages(source, html_column):
        page = extract(raw.html)
        base = {"id": raw.id, "url": raw.url, "path": raw.path}
        if page.num_words == 0:
            dropped.append({**base, "num_words": 0, "reason": "empty"})
            continue
        if page.num_words < min_words:
            dropped.append({**base, "num_words": page.num_words, "reason": "too_few_words"})
            continue
        category = tag_category(raw.url or raw.path, page.text, page.hints)
        kept.append({**base, "title": page.title, "text": page.text,
                     "has_code_tags": page.has_code_tags,
                     "num_code_blocks": page.num_code_blocks, "num_words": page.num_words,
                     "category": category, "hints": page.hints})
    output.mkdir(parents=True, exist_ok=True)
    stats = _stats(kept, dropped, min_words)
    _write(output, kept, dropped, stats)
    return ExtractResult(output, output / "pages.parquet", stats)


def extract_dataset(recipe: ExtractRecipe, run: LineageRun) -> ExtractResult:
    """:func:`extract_pages` of the recipe's source, recorded in ``run``."""
    result = extract_pages(recipe.source, recipe.output, min_words=recipe.min_words,
                           html_column=recipe.html_column)
    run.log_metrics({k: float(v) for k, v in result.stats.items()
                     if isinstance(v, int | float)})
    run.log_artifact(recipe.output / "stats.json", artifact_path="report")
    run.log_output(recipe.output, name="web-pages")
    return result


def _stats(kept: list[dict[str, Any]], dropped: list[dict[str, Any]],
           min_words: int) -> dict[str, Any]:
    return {
        "pages": len(kept) + len(dropped),
        "kept": len(kept),
        "dropped": len(dropped),
        "min_words": min_words,
        "dropped_per_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
        "with_code_tags": sum(1 for p in kept if p["has_code_tags"]),
        "without_code_tags": sum(1 for p in kept if not p["has_code_tags"]),
        "code_blocks": sum(p["num_code_blocks"] for p in kept),
        "per_category": dict(sorted(Counter(p["category"] for p in kept).items())),
    }


def _write(output: Path, kept: list[dict[str, Any]], dropped: list[dict[str, Any]],
           stats: dict[str, Any]) -> None:
    import pyarrow as pa

    write_parquet(pa.Table.from_pylist(kept, schema=page_schema()), output / "pages.parquet")
    drops = pa.schema([("id", pa.string()), ("url", pa.string()), ("path", pa.string()),
                       ("num_words", pa.int64()), ("reason", pa.string())])
    write_parquet(pa.Table.from_pylist(dropped, schema=drops), output / "dropped.parquet")
    atomic_write_json(output / "stats.json", stats)
