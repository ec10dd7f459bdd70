"""``near-dedup``: drop near duplicates (MinHash LSH, connected components), file or repo level.

Same keep rule as ``exact-dedup``: the smallest ``(repo, path, id)`` of a cluster survives;
at repo level the repository with the smallest name.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from codekiln_curate.dedup.decisions import KEY_SEP, Decisions, check_level, keep_key


class NearDedupStage:
    """MinHash LSH + connected components over code-token shingles."""

    name: ClassVar[str] = "near-dedup"
    cluster_column: ClassVar[str] = "near_cluster"

    def __init__(self, level: str = "file", num_perm: int = 128, shingle_size: int = 5,
                 threshold: float = 0.8, seed: int = 1, bands: int = 0, rows: int = 0) -> None:
        """``bands``/``rows`` of 0 are derived from ``threshold`` (see ``optimal_bands``)."""
        from codekiln_curate.dedup import MinHashConfig

        self.level = check_level(level)
        self.config = MinHashConfig(num_perm=num_perm, shingle_size=shingle_size,
                                    threshold=threshold, seed=seed, bands=bands, rows=rows)
        self._hasher: Any = None

    def keys(self, docs: list[dict[str, Any]]) -> pa.Table:
        from codekiln_curate.dedup import MinHasher

        if self._hasher is None:
            self._hasher = MinHasher(self.config)
        sigs = self._hasher.signatures([d["content"] for d in docs])
        flat = pa.array(sigs.reshape(-1), type=pa.uint32())
        column = pa.FixedSizeListArray.from_arrays(flat, self.config.width)
        return pa.table({"id": [d["id"] for d in docs], "repo": [d["repo"] for d in docs],
                         "path": [d["path"] for d in docs], "signature": column})

    def decide(self, key_tables: list[Path], workdir: Path) -> Decisions:
        from codekiln_curate.dedup import BandSpill

        spill = BandSpill(workdir, self.config)
        if self.level == "file":
            for path in key_tables:
                table = pq.read_table(path)
                keys = [keep_key(r) for r in table.select(["id", "repo", "path"]).to_pylist()]
                spill.add(keys, _signatures(table, self.config.width))
            clusters = spill.clusters()
            return {key.rsplit(KEY_SEP, 1)[1]: (rep.rsplit(KEY_SEP, 1)[1],
                                            "near_duplicate" if key != rep else None)
                    for key, rep in clusters.items()}
        return self._decide_repos(key_tables, spill)

    def _decide_repos(self, key_tables: list[Path], spill: Any) -> Decisions:
        from codekiln_curate.dedup import combine_signatures

        repo_sig: dict[str, np.ndarray] = {}
        members: dict[str, list[str]] = defaultdict(list)
        for path in key_tables:
            table = pq.read_table(path)
            sigs = _signatures(table, self.config.width)
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


def _signatures(table: pa.Table, width: int) -> np.ndarray:
    """Signature rows (band values, then verification bins) of a key table."""
    flat = table["signature"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.uint32).reshape(-1, width)
