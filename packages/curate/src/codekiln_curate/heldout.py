"""A held-out validation set that no training corpus contains (for ablations' val loss).

The default set is MBPP's tested, human-written solutions outside its evaluated test split
(prompt, validation and train: 474 tasks), each followed by its asserts. A validation loss
on it measures how well a model predicts clean, short, correct Python that it never saw.
Disjointness is checked, not assumed: every document of the training corpora (``against``)
is scanned for word 10-grams of the held-out documents (the decontamination index of
``codekiln_core.decontam``) and each held-out document that shares one is moved to
``dropped/`` with the training document that matched. The curated corpus is already
decontaminated against all of MBPP, so at the default recipe the check finds none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

DEFAULT_SPLITS = ("prompt", "validation", "train")


class HeldoutRecipe(RecipeModel):
    """Which documents form the held-out set and which corpora it must not overlap."""

    datasets: list[Path] = Field([], description="extra held-out datasets (JSONL/Parquet/"
                                 "files), added to the MBPP solutions")
    output: Path = Field(description="output directory: data/heldout.jsonl, dropped/")
    against: list[Path] = Field([], description="training corpora the set must not overlap "
                                "(one path or a list)")
    mbpp_split: list[str] = Field(list(DEFAULT_SPLITS), description="MBPP splits to include "
                                  "(prompt, validation, train; never test), comma-separated "
                                  "or repeated; empty: none")
    ngram: int = Field(10, ge=1, description="word n-gram length of the overlap check")

    @field_validator("against", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | Path) else value

    @field_validator("mbpp_split", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        return [part.strip() for item in items for part in str(item).split(",") if part.strip()]

    @field_validator("mbpp_split")
    @classmethod
    def _never_test(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in DEFAULT_SPLITS]
        if unknown:
            raise ValueError(f"{unknown}: choose from {', '.join(DEFAULT_SPLITS)} (test is "
                             "what eval scores, never a held-out set)")
        return value


@dataclass(frozen=True)
class HeldOutDoc:
    id: str
    text: str
    source: str


@dataclass
class HeldOutResult:
    out_dir: Path
    kept: int
    dropped: int
    scanned: int  # training documents scanned for overlap
    chars: int


def mbpp_documents(splits: Sequence[str] = DEFAULT_SPLITS) -> Iterator[HeldOutDoc]:
    """MBPP solutions with their asserts, from the bundled copy; the test split is refused."""
    import codekiln_benchmark_data as bench
    from codekiln_core.decontam.sources import read_records

    unknown = [s for s in splits if s not in DEFAULT_SPLITS]
    if unknown:
        raise ConfigError(f"--mbpp-split {','.join(splits)}: choose from "
                          f"{', '.join(DEFAULT_SPLITS)} (test is what eval scores, never a "
                          "held-out set)")
    ranges = [bench.MBPP_SPLITS[s] for s in splits]
    for record in read_records(bench.path("mbpp")):
        task = int(record["task_id"])
        if any(task in r for r in ranges):
            code = str(record["code"]).replace("\r\n", "\n").rstrip()
            tests = "\n".join(str(t) for t in record.get("test_list", []))
            yield HeldOutDoc(f"mbpp/{task}", f"{code}\n\n\n{tests}\n", "mbpp")


def dataset_documents(path: Path) -> Iterator[HeldOutDoc]:
    """Documents of any dataset (a curate output, Parquet/JSONL, a tree of files)."""
    from codekiln_curate.tokens.dataset import iter_batches, open_dataset

    dataset = open_dataset(path)
    for ids, texts in iter_batches(dataset):
        for doc_id, text in zip(ids, texts, strict=True):
            yield HeldOutDoc(f"{dataset.name}/{doc_id}", text, str(path))


def overlapping(docs: Sequence[HeldOutDoc], against: Sequence[Path],
                ngram: int) -> tuple[dict[int, str], int]:
    """{held-out index: first training document sharing an n-gram}, training docs scanned."""
    from codekiln_core.decontam import BenchmarkText, NgramIndex
    from codekiln_curate.tokens.dataset import iter_batches, open_dataset

    index = NgramIndex((BenchmarkText("heldout", str(i), d.text) for i, d in enumerate(docs)),
                       n=ngram)
    hits: dict[int, str] = {}
    scanned = 0
    for path in against:
        dataset = open_dataset(path)
        for ids, texts in iter_batches(dataset):
            for doc_id, text in zip(ids, texts, strict=True):
                scanned += 1
                for entry in index.matched_entries(text):
                    hits.setdefault(int(index.entries[int(entry)][1]), f"{dataset.name}/{doc_id}")
    return hits, scanned


def _write_jsonl(path: Path, rows: Sequence[dict[str, str]]) -> None:
    from codekiln_core.fsio import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def build_heldout(recipe: HeldoutRecipe, run: LineageRun) -> HeldOutResult:
    """Write ``data/heldout.jsonl`` (kept) and ``dropped/overlap.jsonl`` (shared an n-gram)."""
    out_dir, ngram = recipe.output, recipe.ngram
    docs = list(mbpp_documents(recipe.mbpp_split)) if recipe.mbpp_split else []
    for path in recipe.datasets:
        docs.extend(dataset_documents(path))
    if not docs:
        raise ConfigError("no held-out documents: give --mbpp-split or a DATASET")
    hits, scanned = overlapping(docs, recipe.against, ngram)
    kept = [{"id": d.id, "text": d.text, "source": d.source}
            for i, d in enumerate(docs) if i not in hits]
    dropped = [{"id": d.id, "text": d.text, "source": d.source, "drop_stage": "heldout",
                "drop_reason": f"shares a {ngram}-gram with {hits[i]}"}
               for i, d in enumerate(docs) if i in hits]
    _write_jsonl(out_dir / "data" / "heldout.jsonl", kept)
    if dropped:
        _write_jsonl(out_dir / "dropped" / "overlap.jsonl", dropped)
    chars = sum(len(r["text"]) for r in kept)
    run.log_metrics({"documents": len(kept), "dropped_overlap": len(dropped),
                     "scanned": scanned, "chars": chars})
    run.log_output(out_dir, name="heldout")
    return HeldOutResult(out_dir, len(kept), len(dropped), scanned, chars)
