"""The recipes of ``codekiln curate tokenizer train|adopt`` and ``curate shards`` (kept
light: ``codekiln --help`` reads them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from codekiln_core.config import RecipeModel

CHAT_TEMPLATE_HELP = ("also store a chat template in tokenizer_config.json: seed-coder "
                      "(Instruct, default system prompt) or reasoning")


class TokenizerTrainRecipe(RecipeModel):
    """A byte-level BPE trained on one dataset, saved as a Hugging Face directory."""

    dataset: Path = Field(description="curate output directory, Parquet/JSONL file, or a "
                          "directory of files")
    output: Path = Field(description="new tokenizer directory")
    vocab_size: int = Field(32768, ge=1, description="vocabulary size")
    min_frequency: int = Field(2, ge=1, description="merge only pairs seen at least this often")
    chat_template: str | None = Field(None, description=CHAT_TEMPLATE_HELP)


class TokenizerAdoptRecipe(RecipeModel):
    """An existing tokenizer (a model's own), copied; Seed-Coder's FIM sentinels are added
    when it has no FIM tokens of its own."""

    source: str = Field(description="a tokenizer directory, or a model whose tokenizer to "
                        "take: a model directory, a .gguf file, pkg:NAME, a hub id ORG/NAME "
                        "or models:/NAME/VERSION")
    output: Path = Field(description="new tokenizer directory")
    chat_template: str | None = Field(None, description=CHAT_TEMPLATE_HELP)


class ShardsRecipe(RecipeModel):
    """Datasets tokenized, FIM-transformed and packed into fixed-length sequences."""

    datasets: list[str] = Field(min_length=1, description="datasets: PATH or NAME=PATH "
                                "(curate output dir, Parquet/JSONL, or files); NAME keys mix "
                                "and the manifest's per-source counts")
    tokenizer: Path = Field(description="tokenizer directory (`curate tokenizer train|adopt`)")
    output: Path = Field(description="shards directory: shard-*.bin, shard-*.idx, "
                         "manifest.json")
    seq_len: int = Field(8192, ge=2, description="tokens per sequence")
    fim_rate: float = Field(0.5, ge=0, le=1, description="share of documents turned into FIM "
                            "(0.5 regular pretraining, 0.1 continued)")
    fim_mode: Literal["spm", "psm"] = Field("spm", description="FIM layout")
    seed: int = Field(0, description="seed of FIM and mixture sampling")
    mix: list[str] = Field([], description="NAME=WEIGHT: repeat (integer part) / sample "
                           "(fraction) a dataset; a recipe may write one such string or a mapping "
                           "NAME: WEIGHT")
    sequences_per_shard: int = Field(2048, ge=1, description="sequences in each shard file")

    @field_validator("mix", mode="before")
    @classmethod
    def _mapping_or_pairs(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [f"{name}={weight}" for name, weight in value.items()]
        return [value] if isinstance(value, str) else value

    @field_validator("mix")
    @classmethod
    def _weights_parse(cls, value: list[str]) -> list[str]:
        for item in value:
            _pair(item)
        return value

    @property
    def weights(self) -> dict[str, float]:
        """``mix`` as {dataset name: weight}."""
        return dict(_pair(item) for item in self.mix)


def _pair(item: str) -> tuple[str, float]:
    name, _, weight = item.partition("=")
    try:
        return name, float(weight)
    except ValueError:
        raise ValueError(f"{item!r} is not NAME=WEIGHT (e.g. stdlib=0.5)") from None
