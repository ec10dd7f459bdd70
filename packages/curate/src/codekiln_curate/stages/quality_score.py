"""``quality-score``: the scorer as a curation signal stage (``quality_score``, 0-10).

Gate it with an absolute threshold in a recipe (``{signal: quality_score, min: 4}``); a
percentile gate needs every score first, which ``codekiln curate score`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from codekiln_curate.quality.scorer import QualityModel


class QualityScoreStage:
    """Signal ``quality_score``: the student model's 0-10 rubric score of the file."""

    name: ClassVar[str] = "quality-score"
    signal_columns: ClassVar[Mapping[str, str]] = {"quality_score": "float64"}

    def __init__(self, model: str, max_tokens: int = 1024, batch_size: int = 16,
                 device: str = "auto", dtype: str = "float32") -> None:
        """``model``: checkpoint directory; files are cut to their first ``max_tokens``
        tokens; ``device`` auto picks CUDA when present; ``dtype`` bfloat16 halves memory."""
        # Validates options and the directory now; the weights load on first use, inside
        # the worker that scores.
        self.model = QualityModel(model, max_tokens=max_tokens, batch_size=batch_size,
                                  device=device, dtype=dtype)

    def signals_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One model pass over many documents: what an engine should call."""
        return [{"quality_score": score} for score in self.model.score(docs)]

    def signals(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Per-document path (a batch of one) for engines without a batch call."""
        return self.signals_batch([doc])[0]
