"""Exact and near (MinHash) dedup as global stages, at file or repository level.

Keep rule (from :func:`codekiln_curate.dedup.choose_representative`): in every group of
duplicates the document with the smallest ``(repo, path, id)`` is kept; at repo level the
repository with the smallest name is kept and every file of the other repositories in its
cluster is dropped. The rule depends on the data only, so worker count and shard order
never change which copy survives.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from codekiln_core.errors import ConfigError

Decisions = dict[str, tuple[str | None, str | None]]  # id -> (cluster id, drop reason)
SEP = "\0"


def _check_level(level: str) -> Literal["file", "repo"]:
    if level not in ("file", "repo"):
        raise ConfigError(f"dedup level {level!r} is not supported; use 'file' or 'repo'")
    return level  # type: ignore[return-value]


def _key(doc: dict[str, Any]) -> str:
    """String whose order is the keep rule's ``(repo, path, id)`` order."""
    return SEP.join((doc.get("repo") or "", doc.get("path") or "", doc["id"]))


class ExactDedup:
    """Drop documents (or whole repositories) whose normalized SHA-256 was seen before."""

    name: ClassVar[str] = "exact-dedup"
    cluster_column: ClassVar[str] = "exact_cluster"

    def __init__(self, level: str = "file") -> None:
        self.level = _check_level(level)

    def keys(self, docs: list[dict[str, Any]]) -> pa.Table:
        from codekiln_curate.dedup import exact_hash

        return pa.table({"id": [d["id"] for d in docs], "repo": [d["repo"] for d in docs],
                         "path": [d["path"] for d in docs],
                         "hash": [exact_hash(d["content"]) for d in docs]})

    def decide(self, key_tables: list[Path], workdir: Path) -> Decisions:
        from codekiln_curate.dedup import repo_hash

        table = pa.concat_tables([pq.read_table(p) for p in key_tables]) if key_tables else None
        if table is None or table.num_rows == 0:
            return {}
        rows = table.to_pylist()
        if self.level == "file":
            return _group_decisions(rows, key=lambda r: r["hash"], reason="exact_duplicate")
        by_repo: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_repo[row["repo"]].append(row["hash"])
        repo_key = {repo: repo_hash(hashes) for repo, hashes in by_repo.items()}
        return _group_decisions(rows, key=lambda r: repo_key[r["repo"]],
                                reason="exact_duplicate_repo", by_repo=True)


def _group_decisions(rows: list[dict[str, Any]], key: Any, reason: str,
                     by_repo: bool = False) -> Decisions:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    decisions: Decisions = {}
    for cluster, members in groups.items():
        keep_repo = min(m["repo"] for m in members) if by_repo else None
        keep_id = None if by_repo else min(members, key=_key)["id"]
        for member in members:
            dup = member["repo"] != keep_repo if by_repo else member["id"] != keep_id
            decisions[member["id"]] = (cluster, reason if dup else None)
    return decisions


class NearDedup:
    """MinHash LSH + connected components over code-token shingles."""

    name: ClassVar[str] = "near-dedup"
    cluster_column: ClassVar[str] = "near_cluster"

    def __init__(self, level: str = "file", num_perm: int = 128, shingle_size: int = 5,
                 threshold: float = 0.8, seed: int = 1, bands: int = 0, rows: int = 0) -> None:
        """``bands``/``rows`` of 0 are derived from ``threshold`` (see ``optimal_bands``)."""
        from codekiln_curate.dedup import MinHashConfig

        self.level = _check_level(level)
        self.config = MinHashConfig(num_perm=num_perm, shingle_size=shingle_size,
                                    threshold=threshold, seed=seed, bands=bands, rows=rows)
        self._hasher: Any = None

    def keys(self, docs: list[dict[str, Any]]) -> pa.Table:
        from codekiln_curate.dedup import MinHasher

        if self._hasher is None:
            self._hasher = MinHasher(self.config)
        sigs = self._hasher.signatures([d["content"] for d in docs])
        flat = pa.array(sigs.reshape(-1), type=pa.uint32())
        column = pa.FixedSizeListArray.from_arrays(flat, self.config.num_perm)
        return pa.table({"id": [d["id"] for d in docs], "repo": [d["repo"] for d in docs],
                         "path": [d["path"] for d in docs], "signature": column})

    def decide(self, key_tables: list[Path], workdir: Path) -> Decisions:
        from codekiln_curate.dedup import BandSpill

        spill = BandSpill(workdir, self.config)
        if self.level == "file":
            for path in key_tables:
                table = pq.read_table(path)
                keys = [_key(r) for r in table.select(["id", "repo", "path"]).to_pylist()]
                spill.add(keys, _signatures(table, self.config.num_perm))
            clusters = spill.clusters()
            return {key.rsplit(SEP, 1)[1]: (rep.rsplit(SEP, 1)[1],
                                            "near_duplicate" if key != rep else None)
                    for key, rep in clusters.items()}
        return self._decide_repos(key_tables, spill)

    def _decide_repos(self, key_tables: list[Path], spill: Any) -> Decisions:
        from codekiln_curate.dedup import combine_signatures

        repo_sig: dict[str, np.ndarray] = {}
        members: dict[str, list[str]] = defaultdict(list)
        for path in key_tables:
            table = pq.read_table(path)
            sigs = _signatures(table, self.config.num_perm)
            for i, (doc_id, repo) in enumerate(zip(table["id"].to_pylist(),
                                                   table["repo"].to_pylist(), strict=True)):
                members[repo].append(doc_id)
                prev = repo_sig.get(repo)
                repo_sig[repo] = sigs[i] if prev is None else combine_signatures(
                    np.stack([prev, sigs[i]]))
        repos = sorted(repo_sig)
        if not repos:
            return {}
        spill.add(repos, np.stack([repo_sig[r] for r in repos]))
        decisions: Decisions = {}
        for repo, rep in spill.clusters().items():
            for doc_id in members[repo]:
                decisions[doc_id] = (rep, "near_duplicate_repo" if repo != rep else None)
        return decisions


def _signatures(table: pa.Table, num_perm: int) -> np.ndarray:
    flat = table["signature"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.uint32).reshape(-1, num_perm)
