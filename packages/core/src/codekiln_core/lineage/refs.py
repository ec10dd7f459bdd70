"""Inputs of a run, and the marker files that let a later run find the run that made them."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_write_json

#: Marker written into (or beside) every output a codekiln run logs.
MARKER_NAME = ".codekiln-run.json"
#: Above this many bytes a directory is digested by listing (path, size, mtime), not content.
CONTENT_DIGEST_LIMIT = 512 * 1024 * 1024


@dataclass(frozen=True)
class InputRef:
    """One input of a command: a name, where it is, what it was, and who produced it.

    ``model_id``: the MLflow logged model this input is (a model directory a codekiln run
    logged, or a ``models:/`` URI once resolved), recorded as the run's model input.
    """

    name: str
    source: str
    digest: str | None = None
    upstream_run_id: str | None = None
    model_id: str | None = None

    @classmethod
    def from_path(cls, path: str | Path, *, name: str | None = None) -> InputRef:
        """Describe a local file/dir; a codekiln marker there names the upstream run."""
        resolved = Path(path).resolve()
        marker = read_marker(resolved)
        upstream = marker.get("run_id") if marker else None
        digest = marker.get("digest") if marker else None
        return cls(
            name=name or resolved.name,
            source=str(resolved),
            digest=digest or digest_path(resolved),
            upstream_run_id=upstream,
            model_id=marker_model_id(marker) if marker else None,
        )

    @classmethod
    def from_run(cls, run_id: str, *, name: str = "upstream") -> InputRef:
        return cls(name=name, source=f"runs:/{run_id}", digest=run_id[:12], upstream_run_id=run_id)


def marker_model_id(marker: dict[str, Any]) -> str | None:
    """The logged model a marker names (a model's marker carries ``model_uri``; its digest
    is the model id in markers written before ``model_id`` was)."""
    if "model_uri" not in marker:
        return None
    found = marker.get("model_id") or marker.get("digest")
    return str(found) if found else None


def looks_like_model(source: str) -> bool:
    """A model input not logged by codekiln: a Hub id or a Hugging Face model directory."""
    if source.startswith(("hf://", "models:/")):
        return True
    path = Path(source)
    return not source.startswith(("runs:/", "http://", "https://")) and \
        (path / "config.json").is_file()


def marker_path(output: Path) -> Path:
    if output.is_dir():
        return output / MARKER_NAME
    return output.with_name(output.name + ".codekiln-run.json")


def read_marker(path: Path) -> dict[str, Any] | None:
    """The lineage marker of an output, or None when it was not made by codekiln."""
    marker = marker_path(path)
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(path: Path, payload: dict[str, Any]) -> None:
    """Atomically write the marker (temp file then rename) so a crash leaves none half-written."""
    atomic_write_json(marker_path(path), payload)


def digest_path(path: Path) -> str:
    """A short content digest: git HEAD for checkouts, file bytes otherwise."""
    if (path / ".git").exists():
        head = _git(path, "rev-parse", "HEAD")
        if head:
            dirty = "+dirty" if _git(path, "status", "--porcelain", "--untracked-files=no") else ""
            return f"git:{head[:12]}{dirty}"
    if path.is_file():
        return _hash_files([path], path.parent, by_content=True)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name != MARKER_NAME)
        total = sum(p.stat().st_size for p in files)
        return _hash_files(files, path, by_content=total <= CONTENT_DIGEST_LIMIT)
    return "missing"


def _hash_files(files: list[Path], root: Path, *, by_content: bool) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root)).encode())
        stat = file.stat()
        if not by_content:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
            continue
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def git_sha(cwd: Path | None = None) -> str | None:
    """The git HEAD of the working directory's checkout, when there is one."""
    return _git(cwd or Path.cwd(), "rev-parse", "HEAD") or None
