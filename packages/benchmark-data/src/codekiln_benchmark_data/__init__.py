"""Permissively licensed code benchmark files, bundled so evaluation and decontamination work
offline and out of the box.

The data root has one folder per benchmark (``humaneval/``, ``mbpp/``,
``evalplus/``, ``cruxeval/``, ``humaneval-x/``), each folder with the upstream ``LICENSE`` and
a ``NOTICE`` naming the source. Benchmarks whose terms forbid redistribution or training
(LiveCodeBench, MHPP, MultiPL-E) are not here.

Stdlib only: codekiln-curate (decontamination) and codekiln-eval (loading) both depend on it,
and stage packages never import each other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from codekiln_benchmark_data.catalog import FILES, MBPP_SPLITS, SNAPSHOT, BundledFile

__version__ = "0.1.0"

__all__ = [
    "FILES",
    "MBPP_SPLITS",
    "SNAPSHOT",
    "BundledFile",
    "UnknownBenchmarkFile",
    "benchmarks",
    "files",
    "get",
    "license_path",
    "notice_path",
    "path",
    "root",
    "verify",
]

_ROOT = Path(__file__).resolve().parent / "data"


class UnknownBenchmarkFile(KeyError):
    """A name that is not bundled; the message lists the names that are."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def root() -> Path:
    """The data root (one folder per benchmark): pass it wherever a benchmark folder goes."""
    return _ROOT


def files(benchmark: str | None = None) -> tuple[BundledFile, ...]:
    """Every bundled file, or those of one benchmark family (e.g. ``"humaneval-x"``)."""
    return tuple(f for f in FILES if benchmark is None or f.benchmark == benchmark)


def benchmarks() -> tuple[str, ...]:
    """Benchmark families with at least one bundled file, in catalogue order."""
    return tuple(dict.fromkeys(f.benchmark for f in FILES))


def get(name: str) -> BundledFile:
    """The catalogue row of one file; :class:`UnknownBenchmarkFile` names the choices."""
    for entry in FILES:
        if entry.name == name:
            return entry
    raise UnknownBenchmarkFile(
        f"no bundled benchmark file {name!r}; bundled: {', '.join(f.name for f in FILES)} "
        "(LiveCodeBench, MHPP and MultiPL-E are not redistributable: pass their local copy)"
    )


def path(name: str) -> Path:
    """Absolute path of a bundled file, e.g. ``path("humaneval")`` -> ``.../HumanEval.jsonl.gz``."""
    return _ROOT / get(name).relpath


def license_path(name: str) -> Path:
    """The upstream licence text that covers a bundled file."""
    return _ROOT / get(name).directory / "LICENSE"


def notice_path(name: str) -> Path:
    """Provenance of a bundled file: source, revision, changes (none)."""
    return _ROOT / get(name).directory / "NOTICE"


def sha256_of(file: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify() -> list[str]:
    """One line per problem (missing file, wrong hash, missing licence); empty when intact."""
    problems: list[str] = []
    for entry in FILES:
        file = _ROOT / entry.relpath
        if not file.is_file():
            problems.append(f"{entry.name}: {file} is missing")
        elif (actual := sha256_of(file)) != entry.sha256:
            problems.append(f"{entry.name}: sha256 {actual} != catalogue {entry.sha256}")
        for extra in (license_path(entry.name), notice_path(entry.name)):
            if not extra.is_file():
                problems.append(f"{entry.name}: {extra} is missing")
    return problems
