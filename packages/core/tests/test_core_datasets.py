"""The one dataset-input resolver: every accepted shape, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.datasets import resolve_dataset
from codekiln_core.errors import ConfigError


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_curate_output_reads_its_data_parts_only(tmp_path: Path):
    _touch(tmp_path / "data" / "part-1.parquet")
    _touch(tmp_path / "data" / "part-0.parquet")
    _touch(tmp_path / "dropped" / "part-0.parquet")
    _touch(tmp_path / "data" / ".codekiln-run.json")
    found = resolve_dataset(tmp_path)
    assert found.kind == "parquet"
    assert [f.name for f in found.files] == ["part-0.parquet", "part-1.parquet"]


@pytest.mark.parametrize(("name", "kind"), [("a.parquet", "parquet"), ("a.jsonl", "jsonl"),
                                            ("a.jsonl.gz", "jsonl"), ("a.py", "files")])
def test_single_file_kind_by_suffix(tmp_path: Path, name: str, kind: str):
    file = _touch(tmp_path / name)
    found = resolve_dataset(file)
    assert (found.kind, found.files) == (kind, (file,))


def test_kinds_are_tried_in_the_callers_order(tmp_path: Path):
    _touch(tmp_path / "x.jsonl")
    _touch(tmp_path / "src" / "m.py")
    assert resolve_dataset(tmp_path).kind == "jsonl"
    tree = resolve_dataset(tmp_path, kinds=("parquet", "files"))
    assert tree.kind == "files"
    assert {f.name for f in tree.files} == {"x.jsonl", "m.py"}


def test_preferred_name_and_suffix_filter(tmp_path: Path):
    _touch(tmp_path / "labels.parquet")
    _touch(tmp_path / "unparsable.parquet")
    assert resolve_dataset(tmp_path, preferred=["labels.parquet"]).files == (
        tmp_path / "labels.parquet",)
    pages = tmp_path / "pages"
    _touch(pages / "a.html")
    _touch(pages / "notes.txt")
    found = resolve_dataset(pages, kinds=("files",), suffixes=(".html",))
    assert [f.name for f in found.files] == ["a.html"]


def test_hidden_entries_are_never_listed(tmp_path: Path):
    _touch(tmp_path / ".git" / "HEAD")
    _touch(tmp_path / "ok.py")
    assert [f.name for f in resolve_dataset(tmp_path, kinds=("files",)).files] == ["ok.py"]


@pytest.mark.parametrize("case", ["missing", "empty", "wrong-file-kind"])
def test_errors_are_one_line_naming_the_argument(tmp_path: Path, case: str):
    target = {"missing": tmp_path / "nope", "empty": tmp_path,
              "wrong-file-kind": _touch(tmp_path / "a.txt")}[case]
    with pytest.raises(ConfigError) as err:
        resolve_dataset(target, what="label input", kinds=("parquet", "jsonl"))
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"label input {target}")
