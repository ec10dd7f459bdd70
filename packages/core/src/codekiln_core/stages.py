"""The curation stage contract: the one statement of it, in core so plugins need core only.

A stage is a plain class registered by name through ``codekiln_register_stages``. Documents
are mappings with the :data:`DOCUMENT_COLUMNS` plus one key per signal written so far. A
stage is exactly one of these kinds (:func:`stage_kind` decides, first match wins):

* **global** (:class:`GlobalStage`): decides per document only after seeing every document
  (dedup). ``keys`` runs per shard, ``decide`` once over all key tables;
* **batch filter** (:class:`BatchFilter`): one drop reason (or ``None``) per row of a
  ``pyarrow.RecordBatch``;
* **filter** (:class:`Filter`): keep/drop one document, with a short snake_case reason;
* **batch signal stage** (:class:`BatchSignalStage`): signals for a whole shard at once
  (model inference); it should also offer ``signals`` for a batch of one;
* **signal stage** (:class:`SignalStage`): numbers and flags per document; the recipe's
  declarative gates turn them into drops, so a threshold changes without recomputing.

A **reader** (:class:`Reader`) is registered through the same hook as ``read-<kind>`` and
turns a recipe input of that ``kind`` into documents; it is never a recipe stage.

Options: a stage that sets ``options_model`` (a :class:`StageOptions` subclass, one typed
field with a description per option) is built as ``cls(options_model(**recipe options))``,
so a wrong key or value fails with the recipe, in one line, before any work
(:func:`build_stage`). A stage without one is built as ``cls(**recipe options)``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

#: Columns every document has. ``id`` is a stable hash of content and origin.
DOCUMENT_COLUMNS: tuple[str, ...] = ("id", "content", "path", "repo", "language", "source")

Document = Mapping[str, Any]
#: ``True`` keeps; ``False`` or ``(False, reason)`` drops.
FilterResult = bool | tuple[bool, str]
#: What a global stage decides: document id -> (cluster id, drop reason or ``None`` to keep).
Decisions = dict[str, tuple[str | None, str | None]]


class StageOptions(BaseModel):
    """Base of a stage's options model: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


@runtime_checkable
class Filter(Protocol):
    """Keep or drop one document; a drop should carry a short snake_case reason."""

    name: ClassVar[str]

    def filter(self, doc: Document) -> FilterResult: ...


@runtime_checkable
class BatchFilter(Protocol):
    """Vectorised filter: one drop reason per row, ``None`` where the row is kept."""

    name: ClassVar[str]

    def filter_batch(self, batch: pa.RecordBatch) -> Sequence[str | None]: ...


@runtime_checkable
class SignalStage(Protocol):
    """Compute signals for one document; ``signal_columns`` maps names to Arrow type names
    (``int64``, ``float64``, ``bool``, ``string``)."""

    name: ClassVar[str]
    signal_columns: ClassVar[Mapping[str, str]]

    def signals(self, doc: Document) -> Mapping[str, Any]: ...


@runtime_checkable
class BatchSignalStage(Protocol):
    """A signal stage that is much faster over many documents (model inference).

    The executor calls ``signals_batch`` once per shard, in document order; when that call
    raises, it retries document by document through ``signals``.
    """

    name: ClassVar[str]
    signal_columns: ClassVar[Mapping[str, str]]

    def signals_batch(self, docs: Sequence[Document]) -> Sequence[Mapping[str, Any]]: ...

    def signals(self, doc: Document) -> Mapping[str, Any]: ...


@runtime_checkable
class GlobalStage(Protocol):
    """A stage that decides per document only after seeing every document (dedup).

    Run in three phases: ``keys`` per shard (in workers), ``decide`` once over every shard's
    key table (in the driver, spilling to ``workdir``), then the engine applies the
    decisions per shard. ``keys`` must return the same schema for every shard, an empty one
    included (a shard can be empty: a corrupt file, or every document dropped earlier).
    ``cluster_column`` names the output column that receives cluster ids.
    """

    name: ClassVar[str]
    cluster_column: ClassVar[str]

    def keys(self, docs: Sequence[Document]) -> pa.Table: ...

    def decide(self, key_tables: Sequence[Path], workdir: Path) -> Decisions: ...


@runtime_checkable
class Reader(Protocol):
    """Reads one kind of recipe input; registered as ``read-<kind>``, chosen by ``kind:``.

    ``plan`` runs in the driver and lists input ``index`` (its recipe entry is ``spec``, its
    resolved location ``path``) as shards: plain JSON-able work units, cheap to compute
    (paths and sizes, never content), of about ``shard_files`` files each. ``read`` runs in
    a worker and yields one shard's documents, in a fixed order, plus a counted skip for
    each input it cannot turn into a document; it never raises for bad data.
    """

    name: ClassVar[str]

    def plan(self, index: int, spec: Any, path: Path, shard_files: int) -> Sequence[Any]: ...

    def read(self, shard: Any, max_file_bytes: int) -> Iterable[Any]: ...


@runtime_checkable
class ConfiguredStage(Protocol):
    """A stage whose options are declared as a typed model (validated before any work)."""

    options_model: ClassVar[type[StageOptions]]


class StageKind(enum.Enum):
    GLOBAL = "global"
    BATCH_FILTER = "batch_filter"
    FILTER = "filter"
    BATCH_SIGNAL = "batch_signal"
    SIGNAL = "signal"
    READER = "reader"


_KINDS: tuple[tuple[StageKind, type], ...] = (
    (StageKind.GLOBAL, GlobalStage),
    (StageKind.BATCH_FILTER, BatchFilter),
    (StageKind.FILTER, Filter),
    (StageKind.BATCH_SIGNAL, BatchSignalStage),
    (StageKind.SIGNAL, SignalStage),
    (StageKind.READER, Reader),
)


def stage_kind(stage: object) -> StageKind:
    """The kind of a stage class or instance; the first protocol it satisfies wins."""
    for kind, protocol in _KINDS:
        if isinstance(stage, protocol):
            return kind
    raise TypeError(
        f"{stage!r} satisfies no stage protocol of codekiln_core.stages (filter, "
        "filter_batch, signals + signal_columns, keys + decide + cluster_column, "
        "plan + read)"
    )


def signal_columns(stage: object) -> Mapping[str, str]:
    """The signals a stage writes (none for filters and global stages)."""
    if stage_kind(stage) in (StageKind.SIGNAL, StageKind.BATCH_SIGNAL):
        columns: Mapping[str, str] = stage.signal_columns  # type: ignore[attr-defined]
        return columns
    return {}


def build_stage(cls: Any, options: Mapping[str, Any], *, source: str, key: str) -> Any:
    """Construct a registered stage from its recipe options, or raise a one-line error.

    ``source`` names the recipe file and ``key`` where the options sit in it (e.g.
    ``stages[2].options``), so the error reads ``file: stages[2].options.threshold = 'high':
    ...``.
    """
    from codekiln_core.config import describe_validation_error

    if isinstance(cls, ConfiguredStage):
        model = cls.options_model
        try:
            validated = model.model_validate(dict(options))
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, model, source, prefix=key)) from exc
        factory: Any = cls  # a class: calling it builds the stage
        return factory(validated)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(
            f"{source}: {key} = {dict(options)!r}: {exc}; see the stage's documentation "
            "for its options"
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"{source}: {key} = {dict(options)!r}: {exc}") from exc


def normalize_filter_result(result: FilterResult, default_reason: str) -> tuple[bool, str | None]:
    """``(keep, reason)`` from either return shape a filter may use."""
    if isinstance(result, tuple):
        keep, reason = result
        return bool(keep), (None if keep else (reason or default_reason))
    return bool(result), (None if result else default_reason)
