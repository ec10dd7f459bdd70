"""``quality-score``: the scorer as a curation signal stage (``quality_score``, 0-10).

Gate it with an absolute threshold in a recipe (``{signal: quality_score, min: 4}``); a
percentile gate needs every score first, which ``codekiln curate score`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from codekiln_core.stages import StageOptions
from codekiln_curate.quality.scorer import QualityModel


class QualityScoreOptions(StageOptions):
    model: str = Field(..., description="scorer checkpoint directory (`codekiln train scorer`)")
    max_tokens: int = Field(1024, ge=1, description="files are cut to their first N tokens")
    batch_size: int = Field(16, ge=1, description="documents per forward pass")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto picks CUDA when present"
    )
    dtype: Literal["float32", "bfloat16"] = Field(
        "float32", description="bfloat16 halves memory"
    )


class QualityScoreStage:
    """Signal ``quality_score``: the student model's 0-10 rubric score of the file."""

    name: ClassVar[str] = "quality-score"
    signal_columns: ClassVar[Mapping[str, str]] = {"quality_score": "float64"}

    options_model: ClassVar[type[StageOptions]] = QualityScoreOptions

    def __init__(self, options: QualityScoreOptions) -> None:
        # Checks the directory now; the weights load on first use, inside the worker
        # that scores.
        self.model = QualityModel(options.model, max_tokens=options.max_tokens,
                                  batch_size=options.batch_size, device=options.device,
                                  dtype=options.dtype)

    def signals_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One model pass over many documents: what an engine should call."""
        return [{"quality_score": score} for score in self.model.score(docs)]

    def signals(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Per-document path (a batch of one) for engines without a batch call."""
        return self.signals_batch([doc])[0]
