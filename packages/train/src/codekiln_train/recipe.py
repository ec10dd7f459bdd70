"""The typed pretraining recipe (validated before any heavy import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from codekiln_core.config import RecipeModel


class ShardSetRef(RecipeModel):
    """One shard set of a stage's mixture."""

    path: Path = Field(description="a `codekiln curate shards` output directory (relative "
                                   "paths are from the working directory)")
    weight: float = Field(default=1.0, ge=0, allow_inf_nan=False,
                          description="share of the stage's samples drawn from this set "
                                      "(weights are normalised; 0 leaves it out)")
    name: str | None = Field(default=None, description="name in logs and lineage (default: "
                                                       "the directory name)")
