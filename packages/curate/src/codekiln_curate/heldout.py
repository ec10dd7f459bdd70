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

from codekiln_core.errors import ConfigError

DEFAULT_SPLITS = ("prompt", "validation", "train")


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
    run_id: str | None = None


def mbpp_documents(splits: Sequence[str] = DEFAULT_SPLITS) -> Iterator[HeldOutDoc]:
    """MBPP solutions with their asserts, from the bundled copy; the test split is refused."""
    import codekiln_benchmark_data as bench
    from codekiln_core.decontam.sources import read_records

    unknown = [s for s in splits if s not in bench.MBPP_SPLITS]
    if unknown or "test" in splits:
        raise ConfigError(f"--mbpp-split {','.join(splits)}: choose from prompt, validation, "
                          "train (test is what eval scores, never a held-out set)")
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


def build_heldout(out_dir: Path, *, splits: Sequence[str], datasets: Sequence[Path],
                  against: Sequence[Path], ngram: int = 10,
                  lineage: bool = True) -> HeldOutResult:
    """Write ``data/heldout.jsonl`` (kept) and ``dropped/overlap.jsonl`` (shared an n-gram)."""
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command

    if out_dir.exists() and any(out_dir.iterdir()):
        raise ConfigError(f"--output {out_dir} is not empty; pass an empty or new directory")
    docs = list(mbpp_documents(splits)) if splits else []
    for path in datasets:
        docs.extend(dataset_documents(path))
    if not docs:
        raise ConfigError("no held-out documents: give --mbpp-split or a DATASET")
    inputs = [InputRef.from_path(p) for p in [*datasets, *against]] if lineage else []
    config = {"mbpp_splits": list(splits), "datasets": [str(p) for p in datasets],
              "against": [str(p) for p in against], "ngram": ngram}
    with lineage_command("curate.heldout", config=config, inputs=inputs,
                         enabled=lineage) as run:
        hits, scanned = overlapping(docs, against, ngram)
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
    return HeldOutResult(out_dir, len(kept), len(dropped), scanned, chars, run.run_id)
