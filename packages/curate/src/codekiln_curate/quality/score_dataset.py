"""``codekiln curate score``: score a curated dataset, gate it, write kept + dropped Parquet.

Two passes over the parts so memory holds only the scores: score every part, compute the
threshold(s) over all scores, then split each part. Output mirrors the curate layout
(``data/`` kept, ``dropped/`` with ``drop_stage``/``drop_reason``) so no document is lost,
plus ``score_summary.json`` and ``report.md``. Same input, model and options give the same
bytes (pinned Parquet writer, scores rounded, input order kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_curate.quality.gate import GLOBAL, GateDecision, absolute_gate, percentile_gate
from codekiln_curate.quality.recipe import SCORING_KEYS, ScoreRecipe
from codekiln_curate.quality.scorer import QualityModel, check_model_dir

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

STAGE = "quality-score"
REASON = "quality_score_below_threshold"


@dataclass
class ScoreResult:
    out_dir: Path
    summary: dict[str, Any]


def dataset_parts(dataset: Path) -> list[Path]:
    """Parquet parts of a curate output (``data/``), of a directory, or one file."""
    from codekiln_core.datasets import resolve_dataset

    return list(resolve_dataset(dataset, what="score input", kinds=("parquet",)).files)


def score_parts(parts: list[Path], model: QualityModel,
                progress: Callable[[int, int], None] | None) -> list[list[float]]:
    import pyarrow.parquet as pq

    scores: list[list[float]] = []
    for index, part in enumerate(parts):
        table = pq.read_table(part, columns=_scoring_columns(part))
        if "content" not in table.column_names:
            raise ConfigError(f"{part}: no 'content' column; not a curated dataset")
        scores.append(model.score(table.to_pylist()))
        if progress is not None:
            progress(index + 1, len(parts))
    return scores


def _scoring_columns(part: Path) -> list[str]:
    import pyarrow.parquet as pq

    names = pq.read_schema(part).names
    return [c for c in ("content", "language") if c in names]


def write_split(parts: list[Path], scores: list[list[float]], keep_mask: list[bool],
                out: Path) -> dict[str, dict[str, int]]:
    """Kept rows (+ ``quality_score``) to data/, the rest to dropped/; counts per language.

    ``keep_mask`` is aligned with the parts' rows, in order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from codekiln_curate.engine.storage import write_parquet

    counts: dict[str, dict[str, int]] = {}
    offset = 0
    for part, part_scores in zip(parts, scores, strict=True):
        table = pq.read_table(part)
        table = table.append_column("quality_score", pa.array(part_scores, pa.float64()))
        languages = (table.column("language").to_pylist() if "language" in table.column_names
                     else [None] * table.num_rows)
        mask = keep_mask[offset : offset + table.num_rows]
        offset += table.num_rows
        for lang, kept in zip(languages, mask, strict=True):
            entry = counts.setdefault(lang or "unknown", {"kept": 0, "dropped": 0})
            entry["kept" if kept else "dropped"] += 1
        flags = pa.array(mask, pa.bool_())
        write_parquet(table.filter(flags), out / "data" / part.name)
        dropped = table.filter(pc.invert(flags))
        dropped = dropped.append_column("drop_stage", pa.array([STAGE] * dropped.num_rows,
                                                                pa.string()))
        dropped = dropped.append_column("drop_reason", pa.array([REASON] * dropped.num_rows,
                                                                 pa.string()))
        write_parquet(dropped, out / "dropped" / part.name)
    return dict(sorted(counts.items()))


def gate_of(recipe: ScoreRecipe, scores: list[float], languages: list[str | None],
            ids: list[str]) -> GateDecision:
    if recipe.min_score is not None:
        return absolute_gate(scores, languages, {GLOBAL: recipe.min_score})
    return percentile_gate(scores, languages, ids, recipe.drop_percentile or 0.0,
                           recipe.per_language)


def all_ids(parts: list[Path]) -> list[str]:
    """Document ids (the gate's tie-break); ``PART:ROW`` for Parquet without an id column."""
    import pyarrow.parquet as pq

    ids: list[str] = []
    for part in parts:
        if "id" in pq.read_schema(part).names:
            ids.extend(str(v) for v in pq.read_table(part, columns=["id"]).column(0).to_pylist())
        else:
            ids.extend(f"{part.name}:{row}" for row in range(pq.read_metadata(part).num_rows))
    return ids


def all_languages(parts: list[Path]) -> list[str | None]:
    import pyarrow.parquet as pq

    languages: list[str | None] = []
    for part in parts:
        if "language" in pq.read_schema(part).names:
            languages.extend(pq.read_table(part, columns=["language"]).column(0).to_pylist())
        else:
            languages.extend([None] * pq.read_metadata(part).num_rows)
    return languages


def score_dataset(recipe: ScoreRecipe, run: LineageRun,
                  progress: Callable[[int, int], None] | None = None) -> ScoreResult:
    """Score, gate and write the recipe's dataset into its output (written whole: a
    failed run leaves nothing there); record the report in ``run``."""
    from codekiln_core.fsio import atomic_dir
    from codekiln_curate.quality.report import summarize, write_report, write_score_plot

    parts = dataset_parts(recipe.dataset)
    check_model_dir(recipe.model)
    model = QualityModel(recipe.model, max_tokens=recipe.max_tokens,
                         batch_size=recipe.batch_size, device=recipe.device, dtype=recipe.dtype)
    out = recipe.output
    scores = score_parts(parts, model, progress)
    flat = [s for part in scores for s in part]
    decision = gate_of(recipe, flat, all_languages(parts), all_ids(parts))
    with atomic_dir(out) as tmp:
        counts = write_split(parts, scores, decision.keep, tmp)
        summary = summarize(flat, decision.thresholds, counts,
                            recipe.model_dump(mode="json", include=set(SCORING_KEYS)),
                            decision.keep)
        write_report(tmp, summary)
        plot = write_score_plot(tmp)
    run.log_metrics({"kept": summary["kept"], "dropped": summary["dropped"],
                     "mean_score": summary["mean_score"]})
    run.log_artifact(out / "report.md", artifact_path="report")
    run.log_artifact(out / "score_summary.json", artifact_path="report")
    if plot is not None:
        run.log_artifact(out / plot.name, artifact_path="report")
    run.log_output(out, name="scored")
    return ScoreResult(out, summary)
