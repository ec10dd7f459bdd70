"""A JIT build lock left by a killed build is cleared; a fresh one (a build running) stays."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from codekiln_train.engine.build_locks import clear_stale_build_locks, extensions_root


def _lock(path: Path, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_only_old_locks_are_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = _lock(tmp_path / "deepspeed_shm_comm" / "lock", 3600)
    nested = _lock(tmp_path / "py311_cpu" / "fused_adam" / "lock", 3600)
    running = _lock(tmp_path / "cpu_adam" / "lock", 30)
    assert sorted(clear_stale_build_locks(tmp_path)) == sorted([stale, nested])
    assert not stale.exists() and not nested.exists() and running.exists()
    assert capsys.readouterr().err.count("warning: removed") == 2
    assert clear_stale_build_locks(tmp_path / "missing") == []


def test_root_follows_torch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "ext"))
    assert extensions_root() == tmp_path / "ext"
    monkeypatch.delenv("TORCH_EXTENSIONS_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert extensions_root() == tmp_path / "cache" / "torch_extensions"
