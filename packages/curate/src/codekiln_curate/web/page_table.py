"""The ``pages.parquet`` table every web step reads and writes: its schema, reading it back
(from an output directory or the file), writing pages with or without a classifier score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError

PAGE_FIELDS = (("id", "string"), ("url", "string"), ("path", "string"), ("title", "string"),
               ("text", "string"), ("has_code_tags", "bool"), ("num_code_blocks", "int64"),
               ("num_words", "int64"), ("category", "string"), ("hints", "list<string>"))


def page_schema() -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "bool": pa.bool_(), "int64": pa.int64(),
             "list<string>": pa.list_(pa.string())}
    return pa.schema([(name, types[kind]) for name, kind in PAGE_FIELDS])


def read_pages(source: Path) -> list[dict[str, Any]]:
    """Rows of an extract output dir or a pages Parquet file (the classifier's input)."""
    import pyarrow.parquet as pq

    file = source / "pages.parquet" if source.is_dir() else source
    if not file.is_file():
        raise ConfigError(f"{source}: no pages.parquet; run `codekiln curate web extract` "
                          "first or pass its output directory")
    table = pq.read_table(file)
    missing = {"id", "text"} - set(table.column_names)
    if missing:
        raise ConfigError(f"{file}: missing columns {sorted(missing)}; expected the output "
                          "of `codekiln curate web extract`")
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def write_pages(path: Path, rows: list[dict[str, Any]], *, with_score: bool = False) -> None:
    """``rows`` in the page schema (plus ``code_related_score`` when ``with_score``)."""
    import pyarrow as pa

    from codekiln_curate.engine.storage import write_parquet

    schema = page_schema()
    if with_score:
        schema = schema.append(pa.field("code_related_score", pa.float64()))
    names = set(schema.names)
    table = pa.Table.from_pylist([{k: v for k, v in r.items() if k in names} for r in rows],
                                 schema=schema)
    write_parquet(table, path)
