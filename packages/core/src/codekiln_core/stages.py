"""The contract of curation stages, in core so plugins depend on codekiln-core only.

Documents are rows of Arrow record batches with the columns below, plus one column per signal.
Two shapes of per-document work exist:

* a **filter** answers keep/drop with a reason (datatrove-style, one method);
* a **signal stage** computes numbers/flags; the recipe's declarative gates turn them into
  drops, so a threshold changes without recomputing the signal.

Either may also offer a batch method over ``pyarrow.RecordBatch`` for speed; the executor
prefers it when present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pyarrow as pa

#: Columns every document has. ``id`` is a stable hash of content and origin.
DOCUMENT_COLUMNS: tuple[str, ...] = ("id", "content", "path", "repo", "language", "source")

Document = Mapping[str, Any]
FilterResult = bool | tuple[bool, str]


@runtime_checkable
class Filter(Protocol):
    """Keep or drop one document; a drop should carry a short snake_case reason."""

    name: ClassVar[str]

    def filter(self, doc: Document) -> FilterResult: ...


@runtime_checkable
class BatchFilter(Protocol):
    """Vectorised filter: one reason per row, ``None`` where the row is kept."""

    name: ClassVar[str]

    def filter_batch(self, batch: pa.RecordBatch) -> list[str | None]: ...


@runtime_checkable
class SignalStage(Protocol):
    """Compute signals for one document; ``signal_columns`` maps names to Arrow type names."""

    name: ClassVar[str]
    signal_columns: ClassVar[Mapping[str, str]]

    def signals(self, doc: Document) -> Mapping[str, Any]: ...


@runtime_checkable
class BatchSignalStage(Protocol):
    """A signal stage that is much faster over many documents (model inference).

    The executor calls ``signals_batch`` once per shard, in document order; ``signals`` stays
    the per-document fallback.
    """

    name: ClassVar[str]
    signal_columns: ClassVar[Mapping[str, str]]

    def signals_batch(self, docs: Sequence[Document]) -> list[Mapping[str, Any]]: ...


def normalize_filter_result(result: FilterResult, default_reason: str) -> tuple[bool, str | None]:
    """``(keep, reason)`` from either return shape a filter may use."""
    if isinstance(result, tuple):
        keep, reason = result
        return bool(keep), (None if keep else (reason or default_reason))
    return bool(result), (None if result else default_reason)
