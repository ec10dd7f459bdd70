"""Post-training datasets on disk: JSONL or Parquet rows, validated with one-line errors.

Three row shapes share one reader:

- SFT: ``{"messages": [{"role": ..., "content": ...}, ...]}``
- preference (DPO): ``{"prompt": [messages], "chosen": str, "rejected": str}``
- RL (GRPO): ``{"prompt": [messages], "tests": str, "language": str}`` (plus any columns)

Every row keeps an ``id`` (given, else a hash of its content) so drops are reported by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_path

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef

ROLES = ("system", "user", "assistant")
Kind = Literal["sft", "preference", "rl"]
_REQUIRED: dict[Kind, tuple[str, ...]] = {
    "sft": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),
    "rl": ("prompt",),
}


def row_id(row: dict[str, Any]) -> str:
    """A stable id: the row's own ``id``, else sha1 of its canonical JSON."""
    if row.get("id") is not None:
        return str(row["id"])
    body = json.dumps({k: v for k, v in row.items() if k != "id"}, sort_keys=True, default=str)
    return hashlib.sha1(body.encode()).hexdigest()[:16]


def check_messages(messages: Any, where: str, *, needs_assistant: bool) -> list[dict[str, str]]:
    """The conversation as plain dicts, or a ConfigError naming the row and the fix."""
    if not isinstance(messages, list) or not messages:
        raise ConfigError(f"{where}: 'messages' must be a non-empty list of "
                          "{role, content} objects")
    clean = []
    for number, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise ConfigError(f"{where}: message {number} needs 'role' and 'content'")
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise ConfigError(f"{where}: message {number} has role {role!r}; use one of "
                              f"{', '.join(ROLES)}")
        if not isinstance(content, str):
            raise ConfigError(f"{where}: message {number} content is "
                              f"{type(content).__name__}; it must be a string")
        clean.append({"role": role, "content": content})
    if needs_assistant and not any(m["role"] == "assistant" for m in clean):
        raise ConfigError(f"{where}: no assistant turn, so nothing to learn; drop the row or "
                          "add the answer")
    return clean


def check_row(row: Any, kind: Kind, where: str) -> dict[str, Any]:
    """The row validated as ``kind`` (one-line errors naming ``where``), with its ``id``."""
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: a row must be a JSON object, got {type(row).__name__}")
    missing = [key for key in _REQUIRED[kind] if key not in row]
    if missing:
        raise ConfigError(f"{where}: {kind} rows need {', '.join(missing)}; columns are "
                          f"{sorted(row)}")
    row = dict(row)
    if kind == "sft":
        row["messages"] = check_messages(row["messages"], where, needs_assistant=True)
    else:
        row["prompt"] = check_messages(row["prompt"], where, needs_assistant=False)
    if kind == "preference":
        for key in ("chosen", "rejected"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    row["id"] = row_id(row)
    return row


def _raw_rows(path: Path) -> Iterator[tuple[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise ConfigError(f"{path}: not a readable Parquet file ({exc})") from exc
        for number, row in enumerate(table.to_pylist()):
            yield f"{path} row {number}", row
        return
    if path.suffix not in (".jsonl", ".json"):
        raise ConfigError(f"{path}: unknown dataset format; use .jsonl or .parquet")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc


def dataset_files(path: Path) -> list[Path]:
    """``path`` itself, or the .jsonl/.parquet files of a directory (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".parquet"))
        if not files:
            raise ConfigError(f"{path}: directory holds no .jsonl or .parquet files")
        return files
    if not path.is_file():
        raise ConfigError(f"{path}: dataset does not exist; fix the path")
    return [path]


def dataset_input(path: Path, name: str) -> InputRef:
    """A dataset as a run's input named ``name`` (checked to exist: a one-line error)."""
    from codekiln_core.lineage import InputRef

    if not Path(path).exists():
        raise ConfigError(f"{path}: dataset does not exist; fix the path")
    return InputRef.from_path(path, name=name)


def read_rows(paths: Path | Sequence[Path], kind: Kind, *,
              unique_ids: bool = False) -> list[dict[str, Any]]:
    """Every row of one or several dataset files or directories, validated for ``kind``;
    with ``unique_ids`` a repeated ``id`` is a one-line error naming both rows."""
    sources = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    rows = []
    seen: dict[str, str] = {}
    for source in sources:
        for file in dataset_files(source):
            for where, raw in _raw_rows(file):
                row = check_row(raw, kind, where)
                if unique_ids:
                    _check_new_id(row, raw, where, seen)
                rows.append(row)
    if not rows:
        raise ConfigError(f"{', '.join(map(str, sources))}: dataset is empty")
    return rows


def _check_new_id(row: dict[str, Any], raw: dict[str, Any], where: str,
                  seen: dict[str, str]) -> None:
    """Refuse a row whose id an earlier row has: data keyed by id (DPO's reference log-probs)
    would silently give one row the other's values."""
    first = seen.setdefault(row["id"], where)
    if first == where:
        return
    if raw.get("id") is None:
        raise ConfigError(f"{where}: the row repeats {first} exactly (same content hash "
                          f"id {row['id']!r}); remove one of them")
    raise ConfigError(f"{where}: key 'id' = {row['id']!r} repeats the id of {first}; give "
                      "each row its own id (or drop the id key: ids are then content hashes)")


def read_source_rows(path: Path) -> list[dict[str, Any]]:
    """Unvalidated rows of a file, or of a directory's parts (a curate output's ``data/``
    included): what instructions and imports are made from."""
    from codekiln_core.datasets import resolve_dataset

    files = dataset_files(path) if Path(path).is_file() else list(
        resolve_dataset(path, what="dataset", kinds=("parquet", "jsonl")).files)
    return [row for file in files for _, row in _raw_rows(file)]


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows atomically as JSONL or Parquet (by suffix); returns the row count."""
    items = list(rows)
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(items), tmp)
        else:
            with tmp.open("w", encoding="utf-8") as handle:
                for row in items:
                    handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    return len(items)


def text_of(row: dict[str, Any]) -> str:
    """All natural-language and code text of a row, for decontamination."""
    parts: list[str] = []
    for key in ("messages", "prompt"):
        for message in row.get(key) or []:
            parts.append(message["content"])
    for key in ("chosen", "rejected", "tests", "solution"):
        value = row.get(key)
        if isinstance(value, str):
            parts.append(value)
    return "\n".join(parts)
