"""What kind of stage a registered class is, judged by the methods it offers.

Per-document kinds come from :mod:`codekiln_core.stages`; a *global* stage (dedup) needs
the whole corpus and is defined here because only the engine knows how to run one.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa


class StageKind(enum.Enum):
    GLOBAL = "global"
    BATCH_FILTER = "batch_filter"
    FILTER = "filter"
    SIGNAL = "signal"


@runtime_checkable
class GlobalStage(Protocol):
    """A stage that decides per document only after seeing every document.

    Executed in three phases: ``keys`` per shard (in workers), ``decide`` once over all key
    tables (in the driver, spilling to ``workdir``), then the engine applies the decisions
    per shard. ``cluster_column`` names the output column that receives cluster ids.
    """

    name: ClassVar[str]
    cluster_column: ClassVar[str]

    def keys(self, docs: list[dict[str, Any]]) -> pa.Table: ...

    def decide(self, key_tables: list[Path], workdir: Path) -> dict[str, tuple[str | None,
                                                                              str | None]]: ...


def stage_kind(cls: Any) -> StageKind:
    """Classify by method; a batch method wins over the per-document one."""
    if hasattr(cls, "decide") and hasattr(cls, "keys"):
        return StageKind.GLOBAL
    if hasattr(cls, "filter_batch"):
        return StageKind.BATCH_FILTER
    if hasattr(cls, "filter"):
        return StageKind.FILTER
    if hasattr(cls, "signals"):
        return StageKind.SIGNAL
    raise TypeError(f"{cls!r} offers none of filter, filter_batch, signals, keys+decide")
