"""Check a shard directory's files against its manifest before anything trains on them.

Sizes are checked on every open (one ``stat`` per file): a truncated ``.bin`` or ``.idx``
fails at once, naming the file. Contents are checked on the first open: each file's sha256
against the manifest, the largest token id against the vocabulary, the document index's
order. What was read is cached per shard directory under :func:`cache_dir` (not in the shard
directory: that may be read-only, and a pipeline compares its bytes to decide whether a step
is done), keyed by each file's (size, mtime_ns, inode): a re-open costs a ``stat`` per file,
and a rewritten or copied file (new inode or mtime) is read again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError

CACHE_ENV = "CODEKILN_CACHE_DIR"
CACHE_VERSION = 1
TOKEN_BYTES = 4  # uint32
START_BYTES = 8  # uint64
_CHUNK = 16 << 20
REWRITE = "rerun `codekiln curate shards` with the same arguments to rewrite it"


@dataclass(frozen=True)
class FileFacts:
    """What reading one shard file found, and the identity it was read under."""

    size: int
    mtime_ns: int
    ino: int
    sha256: str
    max_value: int  # largest token id (.bin) or document start (.idx); -1 when empty
    increasing: bool  # values strictly increase (what a document index must do)


class DamagedShard(ConfigError):
    """A shard file that does not match its manifest entry; ``problem`` is the first half of
    the message, without the fix (a writer that resumes applies the fix itself)."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}; {REWRITE}")
        self.problem = problem


def _identity(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def expected_sizes(seq_len: int, shard: dict[str, Any]) -> dict[str, int]:
    """File name -> bytes a manifest entry implies (padded sequences; a start per document)."""
    return {shard["bin"]: int(shard["sequences"]) * seq_len * TOKEN_BYTES,
            shard["idx"]: int(shard["documents"]) * START_BYTES}


def check_shard_sizes(directory: Path, seq_len: int, shard: dict[str, Any]) -> None:
    """One shard's two files exist with the sizes its entry implies; one line naming them."""
    for name, want in expected_sizes(seq_len, shard).items():
        path = directory / name
        if not path.is_file():
            raise DamagedShard(f"shard file {path} is missing")
        size = path.stat().st_size
        if size != want:
            raise DamagedShard(f"shard file {path} is {size} bytes but manifest.json implies "
                               f"{want} (truncated or from another run)")


def check_sizes(directory: Path, manifest: dict[str, Any]) -> None:
    """Every shard file of ``manifest`` has the size it implies (a ``stat`` each)."""
    for shard in manifest["shards"]:
        check_shard_sizes(directory, int(manifest["seq_len"]), shard)


def read_facts(path: Path, dtype: str) -> FileFacts:
    """Hash ``path`` and scan its values in one pass (chunks, so memory stays flat)."""
    import numpy as np

    size, mtime_ns, ino = _identity(path)
    digest = hashlib.sha256()
    top, previous, increasing = -1, -1, True
    itemsize = np.dtype(dtype).itemsize
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK - _CHUNK % itemsize):
            digest.update(chunk)
            values = np.frombuffer(chunk[: len(chunk) - len(chunk) % itemsize], dtype=dtype)
            if values.size:
                top = max(top, int(values.max()))
                increasing = increasing and int(values[0]) > previous and bool(
                    np.all(values[1:] > values[:-1]))
                previous = int(values[-1])
    return FileFacts(size, mtime_ns, ino, digest.hexdigest(), top, increasing)


def cache_dir() -> Path:
    """``$CODEKILN_CACHE_DIR``, else ``$XDG_CACHE_HOME/codekiln``, else ``~/.cache/codekiln``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "codekiln"


class FactsCache:
    """File name -> facts for one shard directory, valid while the file's identity holds."""

    def __init__(self, directory: Path) -> None:
        self.directory = str(directory.resolve())
        key = hashlib.sha256(self.directory.encode()).hexdigest()[:24]
        self.path = cache_dir() / "verified-shards" / f"{key}.json"
        self.entries: dict[str, dict[str, Any]] = {}
        self.changed = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == CACHE_VERSION and data.get("directory") == self.directory:
                self.entries = dict(data["files"])
        except (OSError, ValueError, KeyError, AttributeError):
            pass  # no cache, or an unreadable one: everything is read again

    def facts(self, path: Path, dtype: str) -> FileFacts:
        entry = self.entries.get(path.name)
        if isinstance(entry, dict) and tuple(entry.get(k) for k in ("size", "mtime_ns", "ino")) \
                == _identity(path):
            try:
                return FileFacts(**entry)
            except TypeError:
                pass  # an entry of another shape: read the file again
        facts = read_facts(path, dtype)
        self.entries[path.name] = asdict(facts)
        self.changed = True
        return facts

    def save(self) -> None:
        """Best effort: without a writable cache the files are read again on the next open."""
        if not self.changed:
            return
        from codekiln_core.fsio import atomic_write_json

        payload = {"version": CACHE_VERSION, "directory": self.directory, "files": self.entries}
        try:
            atomic_write_json(self.path, payload, indent=None)
        except OSError:
            return


def verify_contents(directory: Path, manifest: dict[str, Any]) -> None:
    """sha256 of every file, token ids below ``vocab_size``, document starts in order."""
    cache = FactsCache(directory)
    try:
        for shard in manifest["shards"]:
            check_shard(directory, manifest, shard, cache)
    finally:
        cache.save()  # what was verified stays verified, even when a later file fails


def check_shard(directory: Path, manifest: dict[str, Any], shard: dict[str, Any],
                cache: FactsCache) -> None:
    """One shard entry (of a manifest, or a writer's completion marker) against its files."""
    check_shard_sizes(directory, int(manifest["seq_len"]), shard)
    bin_path, idx_path = directory / shard["bin"], directory / shard["idx"]
    _check_bin(bin_path, cache.facts(bin_path, "uint32"), shard, manifest.get("vocab_size"))
    _check_idx(idx_path, cache.facts(idx_path, "uint64"), shard)


def _check_bin(path: Path, facts: FileFacts, shard: dict[str, Any], vocab: Any) -> None:
    if facts.sha256 != shard["sha256"]:
        raise DamagedShard(f"shard file {path}: sha256 {facts.sha256[:12]}… but manifest.json "
                           f"records {str(shard['sha256'])[:12]}… (changed after it was "
                           "written)")
    if vocab is not None and facts.max_value >= int(vocab):
        raise ConfigError(f"shard file {path} holds token id {facts.max_value}, but "
                          f"manifest.json's vocab_size (the model's embedding rows) is {vocab}; "
                          "the shards were not made with the manifest's tokenizer: rebuild "
                          "them with `codekiln curate shards --tokenizer ...`")


def _check_idx(path: Path, facts: FileFacts, shard: dict[str, Any]) -> None:
    recorded = shard.get("idx_sha256")
    if recorded is not None and facts.sha256 != recorded:
        raise DamagedShard(f"shard index {path}: sha256 {facts.sha256[:12]}… but manifest.json "
                           f"records {str(recorded)[:12]}… (changed after it was written)")
    if not facts.increasing or facts.max_value >= int(shard["tokens"]):
        raise DamagedShard(f"shard index {path} does not hold increasing document starts "
                           f"below the shard's {shard['tokens']} tokens (damaged)")
