"""Reading benchmark files: local copies first, then the bundled copy, the hub when online.

Local data may be a single file, a benchmark folder, or the root of the shared layout
(``humaneval/``, ``evalplus/``, ...): loaders look for their known file names beneath it.
The bundled copy (codekiln-benchmark-data) has that layout too.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError

#: Root of a local benchmark layout used when no --data is given (offline machines, curate).
DATA_ENV = "CODEKILN_BENCHMARK_DATA"


def read_records(path: Path) -> list[dict[str, Any]]:
    """All records of a ``.jsonl``, ``.jsonl.gz``, ``.json`` (array) or ``.parquet`` file."""
    name = path.name
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return [dict(r) for r in pq.read_table(path).to_pylist()]
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            if name.endswith((".json", ".json.gz")):
                data = json.load(fh)
                if not isinstance(data, list):
                    raise ConfigError(f"{path}: expected a JSON array of records")
                return list(data)
            return [json.loads(line) for line in fh if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read benchmark records ({exc})") from exc


def find_local(data: Path, patterns: tuple[str, ...], origin: str = "--data") -> list[Path]:
    """Files under ``data`` (or ``data`` itself) whose name matches one of ``patterns``.

    ``origin`` names where the path came from, for the error when it does not exist.
    """
    if not data.exists():
        raise ConfigError(f"benchmark data {data} ({origin}) does not exist; fix {origin}")
    if data.is_file():
        return [data]
    found: list[Path] = []
    for pattern in patterns:
        found.extend(sorted(p for p in data.rglob("*") if fnmatch.fnmatch(p.name, pattern)))
    return found


def default_data_root() -> Path | None:
    """The local benchmark root from ``CODEKILN_BENCHMARK_DATA``, if set."""
    value = os.environ.get(DATA_ENV)
    return Path(value) if value else None


def bundled_root() -> Path:
    """Root of the benchmark files shipped in codekiln-benchmark-data."""
    import codekiln_benchmark_data

    return codekiln_benchmark_data.root()


def hub_files(repo_id: str, patterns: tuple[str, ...], revision: str | None = None) -> list[Path]:
    """Download the files of a hub dataset repo matching ``patterns`` (cached by the hub)."""
    try:
        from huggingface_hub import HfApi, hf_hub_download

        names = HfApi().list_repo_files(repo_id, repo_type="dataset", revision=revision)
        wanted = sorted(n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns))
        if not wanted:
            raise ConfigError(
                f"hub dataset {repo_id} has no file matching {list(patterns)}; pass --data "
                "with a local copy"
            )
        return [
            Path(hf_hub_download(repo_id, n, repo_type="dataset", revision=revision))
            for n in wanted
        ]
    except ConfigError:
        raise
    except Exception as exc:  # offline, auth, missing repo: one actionable line
        raise ConfigError(
            f"cannot fetch {repo_id} from the Hugging Face hub ({type(exc).__name__}: "
            f"{str(exc)[:160]}); pass --data PATH or set {DATA_ENV} to a local copy"
        ) from exc


def iter_lines(path: Path) -> Iterator[str]:
    """Text lines of a possibly gzipped file (used for digests of big files)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from fh
