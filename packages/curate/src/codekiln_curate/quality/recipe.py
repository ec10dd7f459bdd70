"""The recipe of ``codekiln curate score`` (kept light: ``codekiln --help`` reads it)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from codekiln_core.config import RecipeModel
from codekiln_core.threads import THREADS_HELP

#: The recipe keys that decide the scores and the gate (recorded in score_summary.json).
SCORING_KEYS = ("drop_percentile", "min_score", "per_language", "max_tokens", "batch_size",
                "device", "dtype")


class ScoreRecipe(RecipeModel):
    """Which dataset is scored by which model, how the gate cuts, where the split goes."""

    dataset: Path = Field(description="a `codekiln curate run` output (data/*.parquet) or "
                          "Parquet file(s)")
    model: Path = Field(description="scorer checkpoint (`codekiln train scorer`)")
    output: Path = Field(description="output directory: data/ (kept), dropped/, "
                         "score_summary.json, report.md")
    drop_percentile: float | None = Field(None, ge=0, lt=100, description="drop the bottom "
                                          "N percent by score (default 10 unless min_score)")
    min_score: float | None = Field(None, ge=0, le=10, description="instead: drop files "
                                    "scoring below this absolute 0-10 value")
    per_language: bool = Field(False, description="percentile per language instead of one "
                               "global cut")
    max_tokens: int = Field(1024, ge=1, description="tokens of each file the model reads")
    batch_size: int = Field(16, ge=1, description="files per forward pass")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="torch device")
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="inference dtype")
    threads: int | None = Field(None, ge=1, description=THREADS_HELP)

    @model_validator(mode="after")
    def _one_gate(self) -> ScoreRecipe:
        if self.min_score is not None and self.drop_percentile is not None:
            raise ValueError("drop_percentile and min_score exclude each other; set one")
        if self.min_score is not None and self.per_language:
            raise ValueError("per_language applies to drop_percentile only")
        if self.min_score is None and self.drop_percentile is None:
            self.drop_percentile = 10.0
        return self

    @model_validator(mode="after")
    def _output_is_new(self) -> ScoreRecipe:
        """The output is replaced whole (and removed first by an old --force): it must not
        be, or hold, the dataset or the model."""
        out = self.output.absolute()
        for key, path in (("dataset", self.dataset), ("model", self.model)):
            inside = path.absolute()
            if out == inside or out in inside.parents:
                raise ValueError(f"output {self.output} holds the {key} {path}; pass a new "
                                 "directory")
        return self
