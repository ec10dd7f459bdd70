"""LLM rating of web pages (0-10 code relatedness and quality), gated per category.

Reuses the labeling helper's teacher clients, request cache and rating parser
(``codekiln_curate.label``); only the prompt and the gate are web-specific. The default
per-category thresholds are codekiln's starting points, not published numbers: the rater
over-scores documentation and e-commerce pages (tidy formatting) and under-scores forums and
Q&A (spec §3), so the former get higher bars and the latter lower ones.

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
from typing import Any

from pydantic import Field, field_validator

from codekiln_core.config import RecipeModel, load_recipe, validate
from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_write_json
from codekiln_curate.engine.storage import write_parquet
from codekiln_curate.label.cache import RequestCache, request_key
from codekiln_curate.label.prompt import parse_rating
from codekiln_curate.label.recipe import TeacherConfig
from codekiln_curate.label.run import Teacher, build_teacher
from codekiln_curate.web.categories import CATEGORIES, tag_category

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

DEFAULT_CATEGORY_THRESHOLDS: dict[str, int] = {
    "documentation": 7, "e-commerce": 8, "qa-forum": 4, "blog-tutorial": 5, "other": 6,
}


class WebRateRecipe(RecipeModel):
    """Which teacher rates the pages, and the per-category gate on its scores."""

    teacher: TeacherConfig = Field(default_factory=TeacherConfig,  # type: ignore[arg-type]
                                   description="the teacher model (same keys as label)")
    category_thresholds: dict[str, int] = Field(
        dict(DEFAULT_CATEGORY_THRESHOLDS), description="minimum score to keep a page, per "
        "category (documentation, qa-forum, blog-tutorial, e-commerce, other)")
    max_chars: int = Field(12000, ge=200, description="page text longer than this is cut "
                           "before prompting")
    max_pages: int | None = Field(None, ge=1, description="rate at most this many pages "
                                  "(the first by id order); null: all")
    cache: str | None = Field(None, description="request cache (sqlite); default "
                              "OUTPUT/cache.sqlite")

    @field_validator("category_thresholds")
    @classmethod
    def _merge_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        """A recipe (or ``--set``) naming one category keeps the defaults of the others."""
        return {**DEFAULT_CATEGORY_THRESHOLDS, **value}


def load_rate_recipe(path: Path | None, overrides: list[str]) -> WebRateRecipe:
    if path is not None:
        recipe = load_recipe(path, WebRateRecipe, overrides)
    else:
        from codekiln_core.config import apply_override

        data: dict[str, object] = {}
        for override in overrides:
            apply_override(data, override)
        recipe = validate(data, WebRateRecipe, source="--set")
    unknown = sorted(set(recipe.category_thresholds) - set(CATEGORIES))
    if unknown:
        raise ConfigError(f"category_thresholds: unknown categories {unknown}; allowed: "
                          f"{list(CATEGORIES)}")
    return recipe


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
    run_id: str | None = None


def rate_pages(pages: list[dict[str, Any]], output: Path, recipe: WebRateRecipe,
               teacher: Teacher) -> RateResult:
    """Ask (or read from cache) one rating per page, parse it, gate by category."""
    pages = sorted(pages, key=lambda p: str(p["id"]))[: recipe.max_pages]
    for page in pages:
        if not page.get("category"):
            page["category"] = tag_category(page.get("url") or page.get("path") or "",
                                            str(page.get("text") or ""), page.get("hints") or ())
    prompts = [build_web_prompt(p["category"], p.get("url") or p.get("path") or "",
                                str(p.get("text") or ""), recipe.max_chars) for p in pages]
    output.mkdir(parents=True, exist_ok=True)
    cache = RequestCache(Path(recipe.cache) if recipe.cache else output / "cache.sqlite")
    try:
        answers, failures, hits = _ask(prompts, teacher, cache)
    finally:
        cache.close()
    rated, kept, rejected = _gate(pages, answers, failures, recipe, teacher.name)
    stats = _stats(pages, rated, kept, rejected, teacher, hits)
    _write(output, rated, kept, rejected, stats)
    return RateResult(output, stats)


def _ask(prompts: list[str], teacher: Teacher, cache: RequestCache,
         ) -> tuple[dict[int, str], dict[int, str], int]:
    params = teacher.params()
    keys = [request_key(teacher.name, prompt, params) for prompt in prompts]
    answers: dict[int, str] = {}
    pending: dict[str, tuple[int, str]] = {}
    for index, key in enumerate(keys):
        cached = cache.get(key)
        if cached is not None:
            answers[index] = cached
        elif key not in pending:
            pending[key] = (index, prompts[index])
    hits = len(answers)
    fresh: dict[str, str] = {}
    errors: dict[str, str] = {}
    for answer in teacher.answer_all(list(pending.values())):
        key = keys[answer.index]
        if answer.text is None:
            errors[key] = answer.error or "no answer"
        else:
            cache.put(key, teacher.name, answer.text)
            fresh[key] = answer.text
    failures: dict[int, str] = {}
    for index, key in enumerate(keys):
        if index not in answers:
            if key in fresh:
                answers[index] = fresh[key]
            else:
                failures[index] = errors.get(key, "no answer")
    return answers, failures, hits


def _gate(pages: list[dict[str, Any]], answers: dict[int, str], failures: dict[int, str],
          recipe: WebRateRecipe, teacher: str,
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rated: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    thresholds = recipe.category_thresholds
    for index, page in enumerate(pages):
        if index in failures:
            rejected.append({"id": page["id"], "answer": None,
                             "reason": "failed: " + failures[index]})
            continue
        rating = parse_rating(answers[index])
        if rating.score is None:
            rejected.append({"id": page["id"], "answer": answers[index], "reason": "unparsable"})
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


def run_rate(dataset: Path, output: Path, recipe: WebRateRecipe, *,
             lineage: bool = True) -> RateResult:
    """Rate the pages of an extract/classify output in one lineage run (curate.web.rate)."""
    teacher = build_teacher(recipe.teacher)  # config errors before reading anything
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command
    from codekiln_curate.web.extract import read_pages

    pages = read_pages(dataset)
    inputs = [InputRef.from_path(dataset, name="web-pages")] if lineage else []
    with lineage_command("curate.web.rate", config=recipe, inputs=inputs,
                     enabled=lineage) as run:
        result = rate_pages(pages, output, recipe, teacher)
        result.run_id = run.run_id
        run.log_metrics({k: float(v) for k, v in result.stats.items()
                         if isinstance(v, int | float)})
        run.log_params({"teacher": teacher.name, "prompt_version": WEB_PROMPT_VERSION})
        run.log_artifact(output / "stats.json", artifact_path="report")
        run.log_output(output, name="rated-web-pages")
    return result
