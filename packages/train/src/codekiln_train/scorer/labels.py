"""Read a labels dataset and split it into train and held-out files, deterministically.

The labeling step writes ``labels.parquet`` (columns ``id path language content score
explanation``) into a directory; any Parquet or JSONL file(s) with at least ``content`` and
``score`` (integers 0-10) work too. The held-out split is chosen by a hash of the id, so it
never moves when labels are added or the file order changes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from codekiln_core.errors import ConfigError

#: Largest label of the rubric; labels are divided by it to train in [0, 1].
MAX_SCORE = 10.0
_SCORE: TypeAdapter[float] = TypeAdapter(float)


@dataclass(frozen=True)
class Label:
    """One labeled file."""

    id: str
    language: str
    content: str
    score: float


def label_files(path: Path) -> list[Path]:
    """``labels.parquet`` in a directory if present, else every Parquet/JSONL file in it."""
    from codekiln_core.datasets import resolve_dataset

    found = resolve_dataset(path, what="labels", kinds=("parquet", "jsonl"),
                            preferred=("labels.parquet",))
    return list(found.files)


def read_rows(file: Path) -> list[dict[str, Any]]:
    from codekiln_core.datasets import kind_of_file

    if kind_of_file(file) == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(file).to_pylist()  # type: ignore[no-any-return]
        except Exception as exc:
            raise ConfigError(f"{file}: not a readable Parquet file ({exc}); "
                              "rewrite it or remove it from the labels directory") from exc
    if file.name.endswith(".zst"):
        raise ConfigError(f"{file}: zstd-compressed labels are not read here; decompress it "
                          "(zstd -d) or write labels as Parquet")
    opener = gzip.open if file.name.endswith(".gz") else open
    rows = []
    with opener(file, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ConfigError(f"{file}:{number}: invalid JSON ({exc.args[0]}); "
                                      "fix or delete that line") from exc
    return rows


def to_label(row: dict[str, Any], where: str) -> Label:
    """Validate one row; a bad score names the file and row instead of training on it."""
    for column in ("content", "score"):
        if column not in row:
            raise ConfigError(f"{where}: column {column!r} missing; labels need content and "
                              "score (0-10)")
    raw_score = row["score"]
    score = _as_score(raw_score)
    if score is None or math.isnan(score) or not 0 <= score <= MAX_SCORE:
        raise ConfigError(f"{where}: score {raw_score!r} is not a number in 0-10; "
                          "drop unparsable labels before training")
    content = row["content"]
    if not isinstance(content, str):
        raise ConfigError(f"{where}: content is {type(content).__name__}, not text")
    ident = row.get("id") or hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
    return Label(str(ident), str(row.get("language") or "unknown"), content, float(score))


def _as_score(value: Any) -> float | None:
    """Numbers and numeric strings (``"5"``, ``" 7.5 "``) as pydantic's lax mode reads them;
    booleans are not scores."""
    if isinstance(value, bool):
        return None
    try:
        return float(_SCORE.validate_python(value))
    except ValidationError:
        return None


def load_labels(path: Path) -> list[Label]:
    """Every label under ``path``, sorted by id (file order never changes the result)."""
    labels: dict[str, Label] = {}
    for file in label_files(path):
        for index, row in enumerate(read_rows(file)):
            label = to_label(row, f"{file} row {index}")
            labels.setdefault(label.id, label)
    if not labels:
        raise ConfigError(f"{path}: no labeled rows; run the labeling step first")
    return [labels[key] for key in sorted(labels)]


def is_held_out(ident: str, percent: int) -> bool:
    """Stable membership of the held-out split: first 8 bytes of sha256(id) modulo 100."""
    bucket = int.from_bytes(hashlib.sha256(ident.encode()).digest()[:8], "big") % 100
    return bucket < percent


def split_labels(labels: list[Label], percent: int) -> tuple[list[Label], list[Label]]:
    """``(train, held_out)``; both must be non-empty to train and to report honestly."""
    held = [label for label in labels if is_held_out(label.id, percent)]
    train = [label for label in labels if not is_held_out(label.id, percent)]
    if not held or not train:
        raise ConfigError(
            f"{len(labels)} labels give {len(train)} train / {len(held)} held-out files at "
            f"eval_percent={percent}; add labels or change --set eval_percent=N")
    return train, held
