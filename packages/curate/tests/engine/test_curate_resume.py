"""Resume: kill -9 the CLI in the middle of a run, rerun with --resume, get the same bytes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

FUNC = "def f{i}(x):\n    y = x * {i}\n    return [y + k for k in range({i})]\n"


def corpus(root: Path) -> Path:
    for i in range(120):
        path = root / f"pkg{i % 6}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FUNC.format(i=i % 100))  # 20 exact duplicates
    return root


def write_recipe(tmp: Path, src: Path, out: Path) -> Path:
    data = {"inputs": [{"kind": "dir", "path": str(src)}], "output": str(out),
            "limits": {"shard_files": 2},
            "stages": [{"name": "exact-dedup"}, {"name": "near-dedup"}]}
    path = tmp / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def cli(recipe: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "codekiln_core", "curate", "run", str(recipe),
            "--no-lineage", "--quiet", "--workers", "1", *extra]


def digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("data", "dropped") for p in sorted((out / sub).glob("*.parquet"))}


@pytest.mark.slow
def test_kill_minus_9_then_rerun_is_byte_identical(tmp_path: Path) -> None:
    src = corpus(tmp_path / "src")
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    done = subprocess.run(cli(write_recipe(tmp_path, src, whole)), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen(cli(write_recipe(tmp_path, src, killed)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    markers = killed / "_state" / "pass-1"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if markers.is_dir() and len(list(markers.glob("*.done.json"))) >= 5:
            break  # killed inside pass 2 of 3: pass 1 and the global stage are done
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (killed / "report.md").exists()
    finished = len(list(markers.glob("*.done.json")))
    assert finished < 60  # 120 files / 2 per shard: the pass was interrupted
    again = subprocess.run(cli(write_recipe(tmp_path, src, killed), "--resume"),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert digests(killed) == digests(whole) and len(digests(whole)) == 120
    assert (killed / "report.md").read_bytes() == (whole / "report.md").read_bytes()
    assert not list(killed.rglob("*.tmp-*"))
