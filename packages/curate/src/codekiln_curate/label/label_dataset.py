"""Label a per-language sample of a dataset: sample, ask the teacher (cached), parse, write
labels and stats, record them in the command's run.

Output directory:
  labels.parquet      id, path, language, content, score (0-10), explanation, teacher
  unparsable.parquet  answers with no rating, and requests that failed after all retries
  stats.json          per-language counts, unparsable/failed totals, requests, cache hits
  cache.sqlite        request cache (unless recipe.cache points elsewhere)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_json
from codekiln_curate.engine.storage import write_parquet
from codekiln_curate.label.logprobs import PROMPT_VERSION as DIGIT_PROMPT_VERSION
from codekiln_curate.label.logprobs import build_digit_prompt, parse_digit_answer
from codekiln_curate.label.prompt import PROMPT_VERSION, build_prompt, parse_rating
from codekiln_curate.label.recipe import LabelRecipe
from codekiln_curate.label.sampling import FileToLabel, iter_documents, sample, truncate
from codekiln_curate.label.teacher import Answers, Teacher, ask_cached, build_teacher

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

LABEL_COLUMNS = ("id", "path", "language", "content", "score", "explanation", "teacher")


@dataclass
class LabelResult:
    out_dir: Path
    labels: Path
    stats: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


def label_dataset(recipe: LabelRecipe, run: LineageRun) -> LabelResult:
    """Label a quota sample of the recipe's dataset into its output; record it in ``run``."""
    teacher = build_teacher(recipe.teacher)  # config errors before any reading
    result = label_files(recipe, teacher)
    run.log_metrics({k: float(v) for k, v in result.stats.items()
                     if isinstance(v, int | float)})
    run.log_params({"teacher": teacher.name, "prompt_version": result.stats["prompt_version"]})
    run.log_artifact(recipe.output / "stats.json", artifact_path="report")
    run.log_output(recipe.output, name="labels")
    return result


def label_files(recipe: LabelRecipe, teacher: Teacher) -> LabelResult:
    """Sample, ask ``teacher`` (answers already in the cache are not asked again), write."""
    output = recipe.output
    docs = sample(iter_documents(recipe.dataset), recipe.sampling)
    output.mkdir(parents=True, exist_ok=True)
    mode = recipe.teacher.mode
    build = _prompt_builder(mode)
    prompts = [build(d.language, truncate(d.content, recipe.sampling.max_chars)) for d in docs]
    answers = ask_cached(prompts, teacher, recipe.cache_path)
    rows, rejected = _rows(docs, answers, teacher.name, mode)
    stats = _stats(docs, rows, rejected, teacher, answers.hits, mode)
    stats["quotas"] = recipe.sampling.effective_quotas()  # what was asked, precedence applied
    _write(output, rows, rejected, stats)
    return LabelResult(output, output / "labels.parquet", stats, rows=rows)


def _prompt_builder(mode: str) -> Callable[[str, str], str]:
    return build_digit_prompt if mode == "logprobs" else build_prompt


def _parse(answer: str, mode: str) -> tuple[float | None, str]:
    if mode == "logprobs":
        return parse_digit_answer(answer)
    rating = parse_rating(answer)
    return rating.score, rating.explanation


def _rows(docs: list[FileToLabel], answers: Answers, teacher: str, mode: str = "generate",
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, doc in enumerate(docs):
        base = {"id": doc.id, "path": doc.path, "language": doc.language}
        if index in answers.failures:
            rejected.append({**base, "answer": None,
                             "reason": "failed: " + answers.failures[index]})
            continue
        text = answers.texts[index]
        score, explanation = _parse(text, mode)
        if score is None:
            rejected.append({**base, "answer": text, "reason": "unparsable"})
            continue
        rows.append({**base, "content": doc.content, "score": score,
                     "explanation": explanation, "teacher": teacher})
    return rows, rejected


def _stats(docs: list[FileToLabel], rows: list[dict[str, Any]], rejected: list[dict[str, Any]],
           teacher: Teacher, hits: int, mode: str = "generate") -> dict[str, Any]:
    unparsable = [r for r in rejected if r["reason"] == "unparsable"]
    return {
        "sampled": len(docs),
        "labeled": len(rows),
        "unparsable": len(unparsable),
        "failed": len(rejected) - len(unparsable),
        "requests": teacher.requests,
        "cache_hits": hits,
        "teacher": teacher.name,
        "prompt_version": DIGIT_PROMPT_VERSION if mode == "logprobs" else PROMPT_VERSION,
        "mode": mode,
        "mean_score": round(sum(r["score"] for r in rows) / len(rows), 4) if rows else 0.0,
        "sampled_per_language": dict(sorted(Counter(d.language for d in docs).items())),
        "labeled_per_language": dict(sorted(Counter(r["language"] for r in rows).items())),
        "unparsable_per_language": dict(sorted(Counter(r["language"]
                                                       for r in unparsable).items())),
        "score_histogram": {str(s): n for s, n in sorted(Counter(round(r["score"])
                                                                 for r in rows).items())},
    }


def _write(output: Path, rows: list[dict[str, Any]], rejected: list[dict[str, Any]],
           stats: dict[str, Any]) -> None:
    import pyarrow as pa

    labels = pa.schema([("id", pa.string()), ("path", pa.string()), ("language", pa.string()),
                        ("content", pa.string()), ("score", pa.float64()),
                        ("explanation", pa.string()), ("teacher", pa.string())])
    write_parquet(pa.Table.from_pylist(rows, schema=labels), output / "labels.parquet")
    other = pa.schema([("id", pa.string()), ("path", pa.string()), ("language", pa.string()),
                       ("answer", pa.string()), ("reason", pa.string())])
    write_parquet(pa.Table.from_pylist(rejected, schema=other), output / "unparsable.parquet")
    atomic_write_json(output / "stats.json", stats)
