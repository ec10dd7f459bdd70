"""The typed pretraining recipe (validated before any heavy import)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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


class ScheduleConfig(RecipeModel):
    """Learning-rate shape within one stage, as a multiplier of the stage's ``lr``.

    Steps count optimizer steps from 0. Warmup rises linearly to the peak at step
    ``warmup_steps - 1``; every shape ends at ``min_lr_ratio`` on the stage's last step.
    """

    kind: Literal["wsd", "cosine", "constant"] = Field(
        default="wsd", description="wsd: warmup, constant, then a final decay; cosine: "
                                   "warmup then cosine to min_lr_ratio; constant: warmup "
                                   "then flat (no decay)")
    warmup_steps: int = Field(default=0, ge=0, description="optimizer steps of linear warmup")
    decay_fraction: float = Field(default=0.2, ge=0, le=1,
                                  description="wsd: share of the stage's steps in the final "
                                              "decay (0 = none)")
    decay_shape: Literal["linear", "cosine", "1-sqrt"] = Field(
        default="linear", description="wsd: shape of the final decay")
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1,
                                description="lr at the end of the decay, as a share of lr")
