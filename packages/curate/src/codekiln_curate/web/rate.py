"""LLM rating of web pages (0-10 code relatedness and quality), gated per category.

Reuses the labeling helper's teacher clients, request cache and rating parser
(``codekiln_curate.label``); only the prompt and the gate are web-specific. The default
per-category thresholds (``web.recipes``) are codekiln's starting points, not published
numbers: the rater over-scores documentation and e-commerce pages (tidy formatting) and
under-scores forums and Q&A (seed-coder.md §3), so the former get higher bars and the latter lower
ones.

Output directory:
  rated.parquet       every page with a parsed score: id, url, path, category, score,
                      threshold, kept, explanation, teacher
  kept.parquet        pages at or above their category's threshold (all page columns + score)
  unparsable.parquet  answers without a rating and failed requests (id, answer, reason)
  stats.json          counts, per-category kept/rated, score histogram
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_json
from codekiln_curate.engine.storage import write_parquet
from codekiln_curate.label.prompt import parse_rating
from codekiln_curate.label.teacher import Answers, Teacher, ask_cached, build_teacher
from codekiln_curate.web.categories import tag_category
from codekiln_curate.web.recipes import WebRateRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

WEB_PROMPT_VERSION = "web-rubric-v1"

#: Codekiln's wording: how useful is this page for teaching a code model?
WEB_RATING_PROMPT = """You are judging a web page to decide whether its text is useful \
training data for a code model. The page was classified as: {CATEGORY}. Its address is \
{URL}.

Give a score of 0 if the page has nothing to do with programming or software (shopping, \
news, marketing, personal pages) or is mostly navigation, lists of links or boilerplate.

Otherwise judge:
1. Code relatedness: how much of the page is about programming, software tools or computer \
science, including code examples, commands, APIs or error messages.
2. Educational value: whether a reader learns how or why something works (explanations, \
worked examples, answers to real questions), not just that it exists.
3. Correctness and completeness: code that looks correct and runnable, explanations that \
are coherent and not cut off.
4. Clarity: readable structure and language. Do not reward tidy formatting alone; an \
informal forum answer with useful content deserves a high score.

Write a short explanation first. Then, on the last line, give an overall score from 0 to 10 \
in exactly this form:
Rating: [[X]]

Page text:
<<<
{CONTENT}
>>>"""

def build_web_prompt(category: str, url: str, text: str, max_chars: int) -> str:
    """Fill the template by plain replacement (braces in page code are safe)."""
    content = text if len(text) <= max_chars else text[:max_chars] + "\n[truncated]"
    return (WEB_RATING_PROMPT.replace("{CATEGORY}", category)
            .replace("{URL}", url or "(unknown)").replace("{CONTENT}", content))


def passes_gate(score: int, category: str, thresholds: dict[str, int]) -> bool:
    """A category without its own threshold falls back to ``other``'s (default 6)."""
    return score >= thresholds.get(category, thresholds.get("other", 6))


@dataclass
class RateResult:
    out_dir: Path
    stats: dict[str, Any]


def rate_pages(pages: list[dict[str, Any]], recipe: WebRateRecipe,
               teacher: Teacher) -> RateResult:
    """Ask (or read from cache) one rating per page, parse it, gate by category; write the
    result into the recipe's output."""
    output = recipe.output
    pages = sorted(pages, key=lambda p: str(p["id"]))[: recipe.max_pages]
    for page in pages:
        if not page.get("category"):
            page["category"] = tag_category(page.get("url") or page.get("path") or "",
                                            str(page.get("text") or ""), page.get("hints") or ())
    prompts = [build_web_prompt(p["category"], p.get("url") or p.get("path") or "",
                                str(p.get("text") or ""), recipe.max_chars) for p in pages]
    output.mkdir(parents=True, exist_ok=True)
    answers = ask_cached(prompts, teacher, recipe.cache_path)
    rated, kept, rejected = _gate(pages, answers, recipe, teacher.name)
    stats = _stats(pages, rated, kept, rejected, teacher, answers.hits)
    _write(output, rated, kept, rejected, stats)
    return RateResult(output, stats)


def _gate(pages: list[dict[str, Any]], answers: Answers, recipe: WebRateRecipe, teacher: str,
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rated: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    thresholds = recipe.category_thresholds
    for index, page in enumerate(pages):
        if index in answers.failures:
            rejected.append({"id": page["id"], "answer": None,
                             "reason": "failed: " + answers.failures[index]})
            continue
        rating = parse_rating(answers.texts[index])
        if rating.score is None:
            rejected.append({"id": page["id"], "answer": answers.texts[index],
                             "reason": "unparsable"})
            continue
        category = page["category"]
        threshold = thresholds.get(category, thresholds.get("other", 6))
        keep = passes_gate(rating.score, category, thresholds)
        rated.append({"id": page["id"], "url": page.get("url") or "",
                      "path": page.get("path") or "", "category": category,
                      "score": rating.score, "threshold": threshold, "kept": keep,
                      "explanation": rating.explanation, "teacher": teacher})
        if keep:
            kept.append({**page, "llm_score": rating.score})
    return rated, kept, rejected


def _stats(pages: list[dict[str, Any]], rated: list[dict[str, Any]], kept: list[dict[str, Any]],
           rejected: list[dict[str, Any]], teacher: Teacher, hits: int) -> dict[str, Any]:
    unparsable = sum(1 for r in rejected if r["reason"] == "unparsable")
    return {
        "pages": len(pages), "rated": len(rated), "kept": len(kept),
        "unparsable": unparsable, "failed": len(rejected) - unparsable,
        "requests": teacher.requests, "cache_hits": hits, "teacher": teacher.name,
        "prompt_version": WEB_PROMPT_VERSION,
        "rated_per_category": dict(sorted(Counter(r["category"] for r in rated).items())),
        "kept_per_category": dict(sorted(Counter(p["category"] for p in kept).items())),
        "score_histogram": {str(s): n for s, n in sorted(Counter(r["score"]
                                                                 for r in rated).items())},
    }


def _write(output: Path, rated: list[dict[str, Any]], kept: list[dict[str, Any]],
           rejected: list[dict[str, Any]], stats: dict[str, Any]) -> None:
    import pyarrow as pa

    rated_schema = pa.schema([("id", pa.string()), ("url", pa.string()), ("path", pa.string()),
                              ("category", pa.string()), ("score", pa.int64()),
                              ("threshold", pa.int64()), ("kept", pa.bool_()),
                              ("explanation", pa.string()), ("teacher", pa.string())])
    write_parquet(pa.Table.from_pylist(rated, schema=rated_schema), output / "rated.parquet")
    write_parquet(pa.Table.from_pylist(kept) if kept else pa.table({"id": pa.array(
        [], pa.string())}), output / "kept.parquet")
    other = pa.schema([("id", pa.string()), ("answer", pa.string()), ("reason", pa.string())])
    write_parquet(pa.Table.from_pylist(rejected, schema=other), output / "unparsable.parquet")
    atomic_write_json(output / "stats.json", stats)


def rate_dataset(recipe: WebRateRecipe, run: LineageRun) -> RateResult:
    """Rate the pages of an extract/classify output; record the result in ``run``."""
    teacher = build_teacher(recipe.teacher)  # config errors before reading anything
    from codekiln_curate.web.page_table import read_pages

    result = rate_pages(read_pages(recipe.dataset), recipe, teacher)
    run.log_metrics({k: float(v) for k, v in result.stats.items()
                     if isinstance(v, int | float)})
    run.log_params({"teacher": teacher.name, "prompt_version": WEB_PROMPT_VERSION})
    run.log_artifact(recipe.output / "stats.json", artifact_path="report")
    run.log_output(recipe.output, name="rated-web-pages")
    return result
