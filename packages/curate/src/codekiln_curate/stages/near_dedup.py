"""``near-dedup``: drop near duplicates (MinHash LSH, connected components), file or repo level.

Same keep rule as ``exact-dedup``: the smallest ``(repo, path, id)`` of a cluster survives;
at repo level the repository with the smallest name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, model_validator

from codekiln_core.stages import Decisions, Document, StageOptions
from codekiln_curate.dedup.exact import KEY_SEP, representative_sort_key


class NearDedupOptions(StageOptions):
    level: Literal["file", "repo"] = Field(
        "file", description="file: drop near-duplicate files; repo: compare whole "
        "repositories (their files' combined signatures)"
    )
    num_perm: int = Field(128, ge=2, description="MinHash permutations per signature")
    shingle_size: int = Field(5, ge=1, description="code tokens per shingle")
    threshold: float = Field(0.8, gt=0.0, lt=1.0,
                             description="Jaccard similarity from which two files are duplicates")
    seed: int = Field(1, description="seed of the MinHash permutations")
    bands: int = Field(0, ge=0, description="LSH bands; 0 derives bands and rows from threshold")
    rows: int = Field(0, ge=0, description="rows per band; 0 derives bands and rows from threshold")
    verify_bins: int = Field(
        512, ge=0, description="one-permutation bins verifying each band link (a power of two; "
        "0 verifies with the band values, less precise, ~0.5 KB/doc less disk)"
    )
    verify_members: int = Field(
        32, ge=1, description="earlier bucket members a file is checked against until one "
        "matches (1: the bucket's first member only)"
    )

    @model_validator(mode="after")
    def _band_layout_fits(self) -> NearDedupOptions:
        bins = self.verify_bins
        if bins & (bins - 1):
            raise ValueError(f"verify_bins={bins} is not a power of two; use e.g. 512 or 0")
        if self.bands and self.rows and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows={self.bands * self.rows} exceeds "
                             f"num_perm={self.num_perm}; lower bands or rows")
        return self


class NearDedupStage:
    """MinHash LSH + connected components over code-token shingles."""

    name: ClassVar[str] = "near-dedup"
    cluster_column: ClassVar[str] = "near_cluster"

    options_model: ClassVar[type[StageOptions]] = NearDedupOptions

    def __init__(self, options: NearDedupOptions | None = None) -> None:
        from codekiln_curate.dedup import MinHashConfig

        options = options or NearDedupOptions()
        self.level = options.level
        self.config = MinHashConfig(num_perm=options.num_perm,
                                    shingle_size=options.shingle_size,
                                    threshold=options.threshold, seed=options.seed,
                                    bands=options.bands, rows=options.rows,
                                    verify_bins=options.verify_bins,
                                    verify_members=options.verify_members)
        self._hasher: Any = None

    def key_schema(self) -> pa.Schema:
        return pa.schema([("id", pa.string()), ("repo", pa.string()), ("path", pa.string()),
                          ("signature", pa.list_(pa.uint32(), self.config.width))])

    def keys(self, docs: Sequence[Document]) -> pa.Table:
        from codekiln_curate.dedup import MinHasher

        if self._hasher is None:
            self._hasher = MinHasher(self.config)
        width = self.config.width  # band values, then verification bins
        sigs = (self._hasher.signatures([d["content"] for d in docs]) if docs
                else np.zeros((0, width), dtype=np.uint32))
        flat = pa.array(sigs.reshape(-1), type=pa.uint32())
        column = pa.FixedSizeListArray.from_arrays(flat, width)
        return pa.table({"id": [d["id"] for d in docs], "repo": [d["repo"] for d in docs],
                         "path": [d["path"] for d in docs], "signature": column},
                        schema=self.key_schema())

    def decide(self, key_tables: Sequence[Path], workdir: Path) -> Decisions:
        from codekiln_curate.dedup import BandSpill

        spill = BandSpill(workdir, self.config)
        if self.level == "file":
            for path in key_tables:
                table = pq.read_table(path, schema=self.key_schema())
                if table.num_rows == 0:  # an empty shard: nothing to band
                    continue
                rows = table.select(["id", "repo", "path"]).to_pylist()
                keys = [representative_sort_key(r) for r in rows]
                spill.add(keys, _signatures(table, self.config.width))
            clusters = spill.clusters()
            return {key.rsplit(KEY_SEP, 1)[1]: (rep.rsplit(KEY_SEP, 1)[1],
                                            "near_duplicate" if key != rep else None)
                    for key, rep in clusters.items()}
        return self._decide_repos(key_tables, spill)

    def _decide_repos(self, key_tables: Sequence[Path], spill: Any) -> Decisions:
        from codekiln_curate.dedup import combine_signatures

        repo_sig: dict[str, np.ndarray] = {}
        members: dict[str, list[str]] = defaultdict(list)
        for path in key_tables:
            table = pq.read_table(path, schema=self.key_schema())
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
