"""Run one pass's per-document stages over a shard's documents, applying gates.

Stages see documents as dicts. A signal stage adds its columns; a gate turns a signal into
a drop; a filter drops directly. An exception on one document drops that document with
reason ``stage_error:<Type>`` instead of ending the run; a :class:`CodekilnError` (a stage
that cannot work at all, e.g. missing benchmark data) still ends it with its one-line error.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from codekiln_core.errors import CodekilnError
from codekiln_core.stages import StageKind, normalize_filter_result, signal_columns, stage_kind
from codekiln_curate.recipe import GateSpec, StageSpec

Doc = dict[str, Any]


@dataclass
class StageStats:
    """Counts for one stage over one shard (summed across shards for the report)."""

    in_docs: int = 0
    in_bytes: int = 0
    out_docs: int = 0
    out_bytes: int = 0
    seconds: float = 0.0
    reasons: dict[str, list[int]] = field(default_factory=dict)

    def drop(self, reason: str, size: int) -> None:
        entry = self.reasons.setdefault(reason, [0, 0])
        entry[0] += 1
        entry[1] += size

    def as_json(self) -> dict[str, Any]:
        return {"in_docs": self.in_docs, "in_bytes": self.in_bytes, "out_docs": self.out_docs,
                "out_bytes": self.out_bytes, "seconds": round(self.seconds, 6),
                "reasons": dict(sorted(self.reasons.items()))}


def gate_reason(gate: GateSpec, value: Any) -> str | None:
    """Why ``value`` fails ``gate``, or None; a missing signal passes every gate."""
    if value is None:
        return None
    if gate.min is not None and value < gate.min:
        return f"{gate.signal}_below_min"
    if gate.max is not None and value > gate.max:
        return f"{gate.signal}_above_max"
    if gate.equals is not None and value != gate.equals:
        if gate.equals is False:  # a flag that should be off is on: the flag names the reason
            return gate.signal
        if gate.equals is True:
            return f"not_{gate.signal}"
        return f"{gate.signal}_not_{str(gate.equals).lower()}"
    return None


class StageRunner:
    """One constructed stage plus its gates."""

    def __init__(self, spec: StageSpec, instance: Any) -> None:
        self.spec = spec
        self.name = spec.name
        self.instance = instance
        self.kind = stage_kind(instance)
        self.columns = dict(signal_columns(instance))

    def run(self, docs: list[Doc], dropped: list[Doc]) -> tuple[list[Doc], StageStats]:
        stats = StageStats(len(docs), sum(d["size_bytes"] for d in docs))
        started = time.perf_counter()
        reasons = self._reasons(docs)
        kept: list[Doc] = []
        for doc, reason in zip(docs, reasons, strict=True):
            reason = reason or self._gate(doc)
            if reason:
                stats.drop(reason, doc["size_bytes"])
                dropped.append({**doc, "drop_stage": self.name, "drop_reason": reason})
            else:
                kept.append(doc)
        stats.seconds = time.perf_counter() - started
        stats.out_docs, stats.out_bytes = len(kept), sum(d["size_bytes"] for d in kept)
        return kept, stats

    def _reasons(self, docs: list[Doc]) -> Sequence[str | None]:
        if not docs:
            return []
        if self.kind is StageKind.BATCH_FILTER:
            try:
                return list(self.instance.filter_batch(_batch(docs)))
            except CodekilnError:
                raise
            except Exception:  # one bad doc must not sink the shard: retry one by one
                return [self._one_batch(doc) for doc in docs]
        if self.kind is StageKind.BATCH_SIGNAL:
            return self._signals_batch(docs)
        return [self._one(doc) for doc in docs]

    def _signals_batch(self, docs: list[Doc]) -> Sequence[str | None]:
        """One call per shard (a model's forward passes batch across documents)."""
        try:
            batch_values = self.instance.signals_batch(docs)
        except CodekilnError:
            raise
        except Exception:  # one bad doc must not sink the shard: retry one by one
            return [self._one(doc) for doc in docs]
        for doc, values in zip(docs, batch_values, strict=True):
            for key in self.columns:
                doc[key] = values.get(key)
        return [None] * len(docs)

    def _one_batch(self, doc: Doc) -> str | None:
        try:
            return self.instance.filter_batch(_batch([doc]))[0]  # type: ignore[no-any-return]
        except CodekilnError:
            raise
        except Exception as exc:
            return f"stage_error:{type(exc).__name__}"

    def _one(self, doc: Doc) -> str | None:
        try:
            if self.kind is StageKind.FILTER:
                return normalize_filter_result(self.instance.filter(doc), self.name)[1]
            values = self.instance.signals(doc)
        except CodekilnError:
            raise
        except Exception as exc:
            return f"stage_error:{type(exc).__name__}"
        for key in self.columns:
            doc[key] = values.get(key)
        return None

    def _gate(self, doc: Doc) -> str | None:
        for gate in self.spec.gates:
            reason = gate_reason(gate, doc.get(gate.signal))
            if reason:
                return reason
        return None


def _batch(docs: list[Doc]) -> pa.RecordBatch:
    names = list(docs[0])
    return pa.RecordBatch.from_pylist([{k: d.get(k) for k in names} for d in docs])
