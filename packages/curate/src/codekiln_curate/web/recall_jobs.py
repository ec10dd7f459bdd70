"""Commands around the recall classifier: seed split, training and scoring, with lineage.

``classify`` output directory:
  pages.parquet     pages at or above the threshold, with ``code_related_score``
  rejected.parquet  pages below it (same columns), so nothing is lost
  stats.json        pages, kept, rejected, threshold, with/without code tags among kept
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codekiln_curate.web.classifier import RecallClassifier, TrainParams, train_classifier
from codekiln_curate.web.extract import read_pages
from codekiln_curate.web.seeds import split_seeds

_SCORE_BATCH = 512


@dataclass
class RecallResult:
    out_dir: Path
    stats: dict[str, Any]
    run_id: str | None = None


def write_pages(path: Path, rows: list[dict[str, Any]], *, with_score: bool = False) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from codekiln_curate.web.extract import page_schema

    schema = page_schema()
    if with_score:
        schema = schema.append(pa.field("code_related_score", pa.float64()))
    names = set(schema.names)
    table = pa.Table.from_pylist([{k: v for k, v in r.items() if k in names} for r in rows],
                                 schema=schema)
    pq.write_table(table, path)


def run_seeds(pages_dir: Path, output: Path) -> dict[str, int]:
    """Split extracted pages into positives/negatives by the documented heuristic."""
    positives, negatives, ambiguous = split_seeds(read_pages(pages_dir))
    for name, rows in (("positives", positives), ("negatives", negatives)):
        (output / name).mkdir(parents=True, exist_ok=True)
        write_pages(output / name / "pages.parquet", rows)
    stats = {"positives": len(positives), "negatives": len(negatives), "ambiguous": ambiguous}
    (output / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return stats


def run_train(positives: Path, negatives: Path, output: Path, *, target_recall: float,
              params: TrainParams, lineage: bool = True) -> RecallResult:
    """Train the recall classifier in one lineage run; the model dir is logged as a model."""
    from codekiln_core.lineage import InputRef, lineage_run

    pos_rows, neg_rows = read_pages(positives), read_pages(negatives)
    inputs = ([InputRef.from_path(positives, name="positives"),
               InputRef.from_path(negatives, name="negatives")] if lineage else [])
    config = {"target_recall": target_recall, **params.__dict__}
    with lineage_run("curate.web.train-classifier", config=config, inputs=inputs,
                     enabled=lineage) as run:
        meta = train_classifier(pos_rows, neg_rows, output, target_recall=target_recall,
                                params=params)
        run.log_metrics({f"valid_{k}": float(v) for k, v in meta["metrics"].items()})
        run.log_model(output, name="web-recall-classifier")
    return RecallResult(output, meta, run.run_id)


def run_classify(dataset: Path, model_dir: Path, output: Path, *,
                 threshold: float | None = None, lineage: bool = True) -> RecallResult:
    """Score every page; keep those at or above the model's (or the given) threshold."""
    from codekiln_core.lineage import InputRef, lineage_run

    classifier = RecallClassifier.load(model_dir)
    cut = classifier.threshold if threshold is None else threshold
    pages = read_pages(dataset)
    inputs = ([InputRef.from_path(dataset, name="web-pages"),
               InputRef.from_path(model_dir, name="classifier")] if lineage else [])
    with lineage_run("curate.web.classify", config={"threshold": cut}, inputs=inputs,
                     enabled=lineage) as run:
        for start in range(0, len(pages), _SCORE_BATCH):
            batch = pages[start:start + _SCORE_BATCH]
            for page, score in zip(batch, classifier.scores([p["text"] for p in batch]),
                                   strict=True):
                page["code_related_score"] = score
        kept = [p for p in pages if p["code_related_score"] >= cut]
        rejected = [p for p in pages if p["code_related_score"] < cut]
        output.mkdir(parents=True, exist_ok=True)
        write_pages(output / "pages.parquet", kept, with_score=True)
        write_pages(output / "rejected.parquet", rejected, with_score=True)
        stats = {"pages": len(pages), "kept": len(kept), "rejected": len(rejected),
                 "threshold": cut,
                 "kept_with_code_tags": sum(1 for p in kept if p.get("has_code_tags")),
                 "kept_without_code_tags": sum(1 for p in kept if not p.get("has_code_tags"))}
        (output / "stats.json").write_text(json.dumps(stats, indent=2) + "\n",
                                           encoding="utf-8")
        run.log_metrics({k: float(v) for k, v in stats.items()})
        run.log_output(output, name="code-related-pages")
    return RecallResult(output, stats, run.run_id)
