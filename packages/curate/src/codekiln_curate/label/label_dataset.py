"""`codekiln curate label`: sample, ask the teacher (cached), parse, write labels + stats.

Output directory:
  labels.parquet      id, path, language, content, score (0-10), explanation, teacher
  unparsable.parquet  answers with no rating, and requests that failed after all retries
  stats.json          per-language counts, unparsable/failed totals, requests, cache hits
  cache.sqlite        request cache (unless recipe.cache points elsewhere)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from codekiln_core.fsio import atomic_write_json
from codekiln_curate.engine.storage import write_parquet
from codekiln_curate.label.cache import RequestCache, request_key
from codekiln_curate.label.logprobs import PROMPT_VERSION as DIGIT_PROMPT_VERSION
from codekiln_curate.label.logprobs import build_digit_prompt, parse_digit_answer
from codekiln_curate.label.openai_teacher import Answer
from codekiln_curate.label.prompt import PROMPT_VERSION, build_prompt, parse_rating
from codekiln_curate.label.recipe import LabelRecipe, TeacherConfig
from codekiln_curate.label.sampling import FileToLabel, iter_documents, sample, truncate

LABEL_COLUMNS = ("id", "path", "language", "content", "score", "explanation", "teacher")


class Teacher(Protocol):
    requests: int

    @property
    def name(self) -> str: ...

    def params(self) -> dict[str, object]: ...

    def answer_all(self, prompts: Sequence[tuple[int, str]]) -> Iterator[Answer]: ...


@dataclass
class LabelResult:
    out_dir: Path
    labels: Path
    stats: dict[str, Any]
    run_id: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


def build_teacher(config: TeacherConfig) -> Teacher:
    if config.kind == "hf":
        from codekiln_curate.label.hf_teacher import HFTeacher

        return HFTeacher(config)
    from codekiln_curate.label.openai_teacher import OpenAITeacher

    return OpenAITeacher(config)


def run_labeling(dataset: Path, output: Path, recipe: LabelRecipe, *,
                 lineage: bool = True, recipe_file: Path | None = None) -> LabelResult:
    """Label a quota sample of ``dataset`` into ``output``; one MLflow run when lineage."""
    teacher = build_teacher(recipe.teacher)  # config errors before any reading
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command

    inputs = [InputRef.from_path(dataset, name="curated")] if lineage else []
    with lineage_command("curate.label", config=recipe, inputs=inputs,
                         recipe_file=recipe_file, enabled=lineage) as run:
        result = label_files(dataset, output, recipe, teacher)
        result.run_id = run.run_id
        run.log_metrics({k: float(v) for k, v in result.stats.items()
                         if isinstance(v, int | float)})
        run.log_params({"teacher": teacher.name, "prompt_version": result.stats["prompt_version"]})
        run.log_artifact(output / "stats.json", artifact_path="report")
        run.log_output(output, name="labels")
    return result


def label_files(dataset: Path, output: Path, recipe: LabelRecipe,
                teacher: Teacher) -> LabelResult:
    docs = sample(iter_documents(dataset), recipe.sampling)
    output.mkdir(parents=True, exist_ok=True)
    cache = RequestCache(Path(recipe.cache) if recipe.cache else output / "cache.sqlite")
    try:
        answers, failures, hits = _collect(docs, recipe.sampling.max_chars, teacher, cache,
                                           recipe.teacher.mode)
    finally:
        cache.close()
    rows, rejected = _rows(docs, answers, failures, teacher.name, recipe.teacher.mode)
    stats = _stats(docs, rows, rejected, teacher, hits, recipe.teacher.mode)
    stats["quotas"] = recipe.sampling.effective_quotas()  # what was asked, precedence applied
    _write(output, rows, rejected, stats)
    return LabelResult(output, output / "labels.parquet", stats, rows=rows)


def _collect(docs: list[FileToLabel], max_chars: int, teacher: Teacher, cache: RequestCache,
             mode: str = "generate") -> tuple[dict[int, str], dict[int, str], int]:
    """Answers by sample index: cached ones first, each distinct prompt asked at most once."""
    params = teacher.params()
    keys: list[str] = []
    pending: dict[str, tuple[int, str]] = {}
    answers: dict[int, str] = {}
    hits = 0
    for index, doc in enumerate(docs):
        prompt = _prompt_builder(mode)(doc.language, truncate(doc.content, max_chars))
        key = request_key(teacher.name, prompt, params)
        keys.append(key)
        cached = cache.get(key)
        if cached is not None:
            answers[index] = cached
            hits += 1
        elif key not in pending:
            pending[key] = (index, prompt)
    by_key: dict[str, str] = {}
    errors: dict[str, str] = {}
    for answer in teacher.answer_all(list(pending.values())):
        key = keys[answer.index]
        if answer.text is None:
            errors[key] = answer.error or "no answer"
            continue
        cache.put(key, teacher.name, answer.text)
        by_key[key] = answer.text
    failures: dict[int, str] = {}
    for index, key in enumerate(keys):
        if index in answers:
            continue
        if key in by_key:
            answers[index] = by_key[key]
        else:
            failures[index] = errors.get(key, "no answer")
    return answers, failures, hits


def _prompt_builder(mode: str) -> Callable[[str, str], str]:
    return build_digit_prompt if mode == "logprobs" else build_prompt


def _parse(answer: str, mode: str) -> tuple[float | None, str]:
    if mode == "logprobs":
        return parse_digit_answer(answer)
    rating = parse_rating(answer)
    return rating.score, rating.explanation


def _rows(docs: list[FileToLabel], answers: dict[int, str], failures: dict[int, str],
          teacher: str, mode: str = "generate",
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, doc in enumerate(docs):
        base = {"id": doc.id, "path": doc.path, "language": doc.language}
        if index in failures:
            rejected.append({**base, "answer": None, "reason": "failed: " + failures[index]})
            continue
        score, explanation = _parse(answers[index], mode)
        if score is None:
            rejected.append({**base, "answer": answers[index], "reason": "unparsable"})
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
