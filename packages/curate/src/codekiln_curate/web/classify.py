"""Classify extracted pages with the recall classifier: score every page, keep those at or
above the threshold, record the split in the command's run.

Output directory:
  pages.parquet     pages at or above the threshold, with ``code_related_score``
  rejected.parquet  pages below it (same columns), so nothing is lost
  stats.json        pages, kept, rejected, threshold, with/without code tags among kept
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_json
from codekiln_curate.web.classifier import RecallClassifier
from codekiln_curate.web.page_table import read_pages, write_pages
from codekiln_curate.web.recipes import ClassifyRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

_SCORE_BATCH = 512


def classify_pages(recipe: ClassifyRecipe, run: LineageRun) -> dict[str, Any]:
    """Score every page; keep those at or above the model's (or the recipe's) threshold."""
    classifier = RecallClassifier.load(recipe.model)
    cut = classifier.threshold if recipe.threshold is None else recipe.threshold
    pages = read_pages(recipe.dataset)
    for start in range(0, len(pages), _SCORE_BATCH):
        batch = pages[start:start + _SCORE_BATCH]
        for page, score in zip(batch, classifier.scores([p["text"] for p in batch]),
                               strict=True):
            page["code_related_score"] = score
    kept = [p for p in pages if p["code_related_score"] >= cut]
    rejected = [p for p in pages if p["code_related_score"] < cut]
    output = recipe.output
    output.mkdir(parents=True, exist_ok=True)
    write_pages(output / "pages.parquet", kept, with_score=True)
    write_pages(output / "rejected.parquet", rejected, with_score=True)
    stats = {"pages": len(pages), "kept": len(kept), "rejected": len(rejected),
             "threshold": cut,
             "kept_with_code_tags": sum(1 for p in kept if p.get("has_code_tags")),
             "kept_without_code_tags": sum(1 for p in kept if not p.get("has_code_tags"))}
    atomic_write_json(output / "stats.json", stats)
    run.log_metrics({k: float(v) for k, v in stats.items()})
    run.log_output(output, name="code-related-pages")
    return stats
