"""``exact-dedup``: drop exact duplicates (normalized SHA-256), at file or repository level.

Keep rule (from :func:`codekiln_curate.dedup.choose_representative`): in every group of
duplicates the document with the smallest ``(repo, path, id)`` is kept; at repo level the
repository with the smallest name is kept and every file of the other repositories with the
same content is dropped. The rule depends on the data only, so worker count and shard order
never change which copy survives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from codekiln_core.stages import Decisions, Document, StageOptions
from codekiln_curate.dedup.exact import representative_sort_key

KEY_SCHEMA = pa.schema([("id", pa.string()), ("repo", pa.string()), ("path", pa.string()),
                        ("hash", pa.string())])


class ExactDedupOptions(StageOptions):
    level: Literal["file", "repo"] = Field(
        "file", description="file: drop duplicate files; repo: drop every file of a "
        "repository whose whole content duplicates another's"
    )


class ExactDedupStage:
    """Drop documents (or whole repositories) whose normalized SHA-256 was seen before."""

    name: ClassVar[str] = "exact-dedup"
    cluster_column: ClassVar[str] = "exact_cluster"

    options_model: ClassVar[type[StageOptions]] = ExactDedupOptions

    def __init__(self, options: ExactDedupOptions | None = None) -> None:
        self.level = (options or ExactDedupOptions()).level

    def keys(self, docs: Sequence[Document]) -> pa.Table:
        from codekiln_curate.dedup import exact_hash

        return pa.table({"id": [d["id"] for d in docs], "repo": [d["repo"] for d in docs],
                         "path": [d["path"] for d in docs],
                         "hash": [exact_hash(d["content"]) for d in docs]}, schema=KEY_SCHEMA)

    def decide(self, key_tables: Sequence[Path], workdir: Path) -> Decisions:
        from codekiln_curate.dedup import repo_hash

        rows = [row for path in key_tables
                for row in pq.read_table(path, schema=KEY_SCHEMA).to_pylist()]
        if not rows:
            return {}
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
        keep_id = None if by_repo else min(members, key=representative_sort_key)["id"]
        for member in members:
            dup = member["repo"] != keep_repo if by_repo else member["id"] != keep_id
            decisions[member["id"]] = (cluster, reason if dup else None)
    return decisions


