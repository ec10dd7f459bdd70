"""Signal stages with ``signals_batch`` get one call per shard, not one per document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from codekiln_core.stages import BatchSignalStage
from codekiln_curate.engine.stage_runner import StageRunner
from codekiln_curate.recipe import StageSpec


class LengthScore:
    """Scores by length; counts how it was called (a model would batch forward passes)."""

    name: ClassVar[str] = "length-score"
    signal_columns: ClassVar[Mapping[str, str]] = {"length_score": "float64"}

    def __init__(self, fail_batch: bool = False) -> None:
        self.batch_calls: list[int] = []
        self.single_calls = 0
        self.fail_batch = fail_batch

    def signals_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.batch_calls.append(len(docs))
        if self.fail_batch:
            raise RuntimeError("batch too large for the device")
        return [{"length_score": float(len(d["content"]))} for d in docs]

    def signals(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        self.single_calls += 1
        return {"length_score": float(len(doc["content"]))}


def docs() -> list[dict[str, Any]]:
    texts = ["x = 1\n", "def f():\n    return 2\n", "", "print('hello world')\n"]
    return [{"id": str(i), "content": t, "size_bytes": len(t)} for i, t in enumerate(texts)]


def spec() -> StageSpec:
    return StageSpec.model_validate(
        {"name": "length-score", "gates": [{"signal": "length_score", "min": 7}]}
    )


def test_batch_method_is_called_once_and_gates_apply() -> None:
    stage = LengthScore()
    assert isinstance(stage, BatchSignalStage)
    dropped: list[dict[str, Any]] = []
    kept, stats = StageRunner(spec(), stage).run(docs(), dropped)
    assert stage.batch_calls == [4] and stage.single_calls == 0
    assert [d["id"] for d in kept] == ["1", "3"]
    assert [d["length_score"] for d in kept] == [22.0, 21.0]
    assert [(d["id"], d["drop_reason"]) for d in dropped] == [
        ("0", "length_score_below_min"), ("2", "length_score_below_min")]
    assert stats.out_docs == 2


def test_a_failing_batch_falls_back_to_single_documents() -> None:
    stage = LengthScore(fail_batch=True)
    kept, _ = StageRunner(spec(), stage).run(docs(), [])
    assert stage.batch_calls == [4] and stage.single_calls == 4
    assert [d["id"] for d in kept] == ["1", "3"]
