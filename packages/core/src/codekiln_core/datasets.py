"""Where a command's dataset argument points: the one resolver every reader starts from.

A dataset argument may be a ``codekiln curate run`` output (its ``data/`` parts), a Parquet
or JSONL file, a directory of Parquet or JSONL parts, or a plain tree of text files. Every
command that reads documents (tokens, labeling, samples, quality scoring, web, scorer labels)
resolves it here, so each accepts the same inputs and fails with the same one-line errors.
Resolution only lists files; reading them (pyarrow, json) is the caller's job.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from codekiln_core.errors import ConfigError

DatasetKind = Literal["parquet", "jsonl", "files"]
ALL_KINDS: tuple[DatasetKind, ...] = ("parquet", "jsonl", "files")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json.gz", ".json.zst", ".ndjson")
#: Directories never read as part of a source tree (besides every hidden one: .git, .venv).
SKIP_DIRS = frozenset({"__pycache__", "node_modules"})
_HINTS: dict[DatasetKind, str] = {
    "parquet": "a `codekiln curate run` output directory or Parquet file(s)",
    "jsonl": "JSONL file(s)",
    "files": "a directory of source files",
}


@dataclass(frozen=True)
class DatasetFiles:
    """What a dataset argument resolved to: its kind and its files, in a fixed order."""

    root: Path
    kind: DatasetKind
    files: tuple[Path, ...]

    @property
    def name(self) -> str:
        """The dataset's name: a curate output's directory, else the path's last part."""
        return self.root.resolve().name


def open_binary(path: Path) -> IO[bytes]:
    """A file's bytes, gzip (``.gz``) or zstd (``.zst``) decompressed as they are read."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if path.name.endswith(".zst"):
        from codekiln_core.extras import require

        require("zstandard", ".zst dataset parts")
        import zstandard  # lazily: only .zst parts need it

        raw = open(path, "rb")  # noqa: SIM115  # closed with the returned reader (closefd)
        stream = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.BufferedReader(stream)
    return open(path, "rb")


def open_text(path: Path) -> IO[str]:
    """:func:`open_binary` decoded as UTF-8 text (JSONL parts)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8")


def kind_of_file(path: Path) -> DatasetKind:
    """``parquet``/``jsonl`` by suffix; any other file is read as text (``files``)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return "files"


def resolve_dataset(
    path: str | Path,
    *,
    what: str = "dataset",
    kinds: Sequence[DatasetKind] = ALL_KINDS,
    preferred: Sequence[str] = (),
    suffixes: Sequence[str] = (),
    recursive: bool = False,
) -> DatasetFiles:
    """List the files behind ``path``; the first of ``kinds`` (in that order) found wins.

    ``what`` names the argument in errors (``label input``). ``preferred``: file names tried
    first in a directory (``labels.parquet``). ``suffixes`` limits a ``files`` tree to those
    endings (``.html``). Parquet/JSONL parts are looked for in ``data/`` (a curate output)
    or the directory itself, below it too with ``recursive``, so a source tree that merely
    contains a Parquet fixture stays a source tree. Hidden files and directories (``.git``,
    markers), symlinks and :data:`SKIP_DIRS` are never listed.
    """
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"{what} {root}: no such file or directory; pass {_expected(kinds)}")
    if root.is_file():
        return _single_file(root, what, kinds)
    for name in preferred:
        if (root / name).is_file():
            return DatasetFiles(root, kind_of_file(root / name), (root / name,))
    base = root / "data" if (root / "data").is_dir() else root
    listed = _visible_files(base) if recursive else sorted(
        p for p in base.iterdir() if p.is_file() and not p.name.startswith("."))
    for kind in kinds:
        if kind == "files":
            files = [f for f in _visible_files(root)
                     if not suffixes or f.name.lower().endswith(tuple(suffixes))]
        else:
            files = [f for f in listed if kind_of_file(f) == kind]
        if files:
            return DatasetFiles(root, kind, tuple(files))
    raise ConfigError(f"{what} {root}: nothing to read here (no {_names(kinds)}); "
                      f"pass {_expected(kinds)}")


def _single_file(file: Path, what: str, kinds: Sequence[DatasetKind]) -> DatasetFiles:
    kind = kind_of_file(file)
    if kind not in kinds:
        raise ConfigError(f"{what} {file}: a {kind} file is not accepted here; "
                          f"pass {_expected(kinds)}")
    return DatasetFiles(file, kind, (file,))


def _visible_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
                  and not any(part.startswith(".") or part in SKIP_DIRS
                              for part in p.relative_to(root).parts))


def _names(kinds: Sequence[DatasetKind]) -> str:
    names = {"parquet": "*.parquet", "jsonl": "*.jsonl", "files": "files"}
    return ", ".join(names[k] for k in kinds)


def _expected(kinds: Sequence[DatasetKind]) -> str:
    return " or ".join(_HINTS[k] for k in kinds)
