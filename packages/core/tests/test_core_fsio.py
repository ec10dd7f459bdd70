"""Atomic writes: a failed write leaves the old file or directory intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.fsio import (
    atomic_dir,
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temps,
)


def test_write_then_replace(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write_json(target, {"k": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == '{\n  "k": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_json_is_byte_stable(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "a.json", {"b": 1, "a": 2})
    atomic_write_json(tmp_path / "b.json", {"a": 2, "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_directory_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    with atomic_dir(target) as tmp:
        (tmp / "weights").write_text("v1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "weights").write_text("v2-partial")
        raise RuntimeError("killed")
    assert (target / "weights").read_text() == "v1"
    with atomic_dir(target) as tmp:
        (tmp / "other").write_text("v3")
    assert sorted(p.name for p in target.iterdir()) == ["other"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_stale_temps_removed(tmp_path: Path) -> None:
    (tmp_path / "x.parquet.tmp-123").write_text("")
    (tmp_path / "d.tmp-9").mkdir()
    (tmp_path / "keep.parquet").write_text("")
    assert remove_stale_temps(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["keep.parquet"]
