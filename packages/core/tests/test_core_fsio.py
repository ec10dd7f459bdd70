"""Atomic writes: a failed write leaves the old file or directory intact; what appears has
the umask's modes; a full disk or a read-only output is one line naming the path."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.errors import ConfigError, DiskFullError
from codekiln_core.fsio import (
    atomic_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    check_writable,
    current_umask,
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


def _write_private(path: Path, data: bytes) -> None:
    """Write as safetensors does: a new file created 0600."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def test_files_appear_with_umask_modes_not_the_writers(tmp_path: Path, umask_027: None) -> None:
    assert current_umask() == 0o027
    with atomic_path(tmp_path / "weights.safetensors") as tmp:
        _write_private(tmp, b"w")
    with atomic_dir(tmp_path / "model") as tmp:
        _write_private(tmp / "model.safetensors", b"w")
        (tmp / "sub").mkdir(mode=0o700)
        _write_private(tmp / "sub" / "tool.sh", b"#!/bin/sh\n")
        os.chmod(tmp / "sub" / "tool.sh", 0o700)

    def mode(rel: str) -> int:
        return stat.S_IMODE((tmp_path / rel).stat().st_mode)

    assert mode("weights.safetensors") == 0o640
    assert (mode("model"), mode("model/model.safetensors")) == (0o750, 0o640)
    assert (mode("model/sub"), mode("model/sub/tool.sh")) == (0o750, 0o750)


def test_full_disk_is_one_line_naming_path_and_bytes(small_disk: Any) -> None:
    disk = small_disk(256 * 1024)
    target = disk / "shard-00001.bin"
    atomic_write_bytes(target, b"old")
    with pytest.raises(DiskFullError) as caught:
        atomic_write_bytes(target, b"x" * (1024 * 1024))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("disk full")
    assert str(target) in message and "1048576 bytes" in message
    assert target.read_bytes() == b"old"
    assert [p.name for p in disk.iterdir()] == [target.name]  # no temp left behind


def test_full_disk_in_a_directory_keeps_the_old_one(small_disk: Any) -> None:
    disk = small_disk(256 * 1024)
    target = disk / "checkpoint"
    with atomic_dir(target) as tmp:
        (tmp / "weights").write_bytes(b"v" * 150_000)
    # The new one is as large as the old one: the old one's size is the estimate.
    expected = r"disk full: writing .*checkpoint needs about 146\.5 KiB \(150000 bytes\)"
    with pytest.raises(DiskFullError, match=expected), atomic_dir(target) as tmp:
        (tmp / "weights").write_bytes(b"w" * 150_000)
    assert (target / "weights").read_bytes() == b"v" * 150_000
    assert [p.name for p in disk.iterdir()] == ["checkpoint"]


def test_enospc_at_the_write_boundary_becomes_disk_full(tmp_path: Path) -> None:
    """Where no tmpfs can be mounted: the error a full disk raises, injected by the writer."""
    target = tmp_path / "export"
    with pytest.raises(DiskFullError, match=r"disk full: writing .*export needs about "
                                            r"1\.0 MiB") as caught, \
            atomic_dir(target, expected_bytes=1 << 20) as tmp:
        (tmp / "part").write_bytes(b"x" * 10)
        raise OSError(errno.ENOSPC, "No space left on device")
    assert isinstance(caught.value.__cause__, OSError)
    assert not any(tmp_path.iterdir())


def test_other_errors_are_not_disk_full(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="bad tensor"), atomic_path(tmp_path / "a") as tmp:
        tmp.write_text("x")
        raise RuntimeError("bad tensor")  # plenty of room left: not a full disk


def test_check_writable_accepts_new_and_existing_outputs(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "deeper" / "out")
    check_writable(tmp_path)
    assert not any(tmp_path.iterdir())  # nothing created, the probe is gone


def test_check_writable_refuses_a_read_only_output(small_disk: Any) -> None:
    disk = small_disk(64 * 1024, read_only=True)
    with pytest.raises(ConfigError) as caught:
        check_writable(disk / "run" / "out")
    assert str(caught.value) == (f"{disk / 'run' / 'out'}: cannot write here ({disk}: "
                                 "Read-only file system); choose another --output or fix its "
                                 "permissions")
