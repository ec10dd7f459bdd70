"""The typed pretraining recipe: one YAML file, a list of stages, validated before any
heavy import.

The Seed-Coder report's schedule is a list of stages: regular pretraining at 8K, then
continued pretraining up to 32K, each with its own shard mixture, token budget, learning
rate and RoPE θ, each starting from the previous stage's final checkpoint. Every field's
description is its CLI help and the hint of its error message; ``--set a.b=value`` (list
items by index: ``--set stages.1.lr=1e-4``) overrides any key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from codekiln_core.config import RecipeModel, load_recipe


class ShardSetRef(RecipeModel):
    """One shard set of a stage's mixture."""

    path: Path = Field(description="a `codekiln curate shards` output directory (relative "
                                   "paths are from the working directory)")
    weight: float = Field(default=1.0, ge=0, allow_inf_nan=False,
                          description="share of the stage's samples drawn from this set "
                                      "(weights are normalised; 0 leaves it out)")
    name: str | None = Field(default=None, description="name in logs and lineage (default: "
                                                       "the directory name)")
    verify: Literal["contents", "sizes"] = Field(
        default="contents", description="contents: check each file's size and sha256 against "
        "the manifest, and token ids against its vocabulary, before the first step (read once, "
        "then cached under $CODEKILN_CACHE_DIR or ~/.cache/codekiln: a re-open costs a stat per "
        "file); sizes: sizes only, for sets too large to read at start (token ids are then "
        "checked as sequences are read)")


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


class ModelSection(RecipeModel):
    """Which preset, and any of its fields replaced (``--set model.num_hidden_layers=2``).

    The vocabulary and special ids are not here: they come from the shards' manifest.
    """

    preset: str = Field(description="tiny, small, 1b or seed-coder-8b "
                                    "(codekiln_train.models.PRESETS)")
    hidden_size: int | None = Field(default=None, description="replaces the preset's width")
    intermediate_size: int | None = Field(default=None,
                                          description="replaces the SwiGLU width")
    num_hidden_layers: int | None = Field(default=None, description="replaces the depth")
    num_attention_heads: int | None = Field(default=None,
                                            description="replaces the query heads")
    num_key_value_heads: int | None = Field(default=None,
                                            description="replaces the key/value heads (GQA)")
    max_position_embeddings: int | None = Field(default=None,
                                                description="replaces the longest context")
    rope_theta: float | None = Field(default=None, description="replaces the RoPE base the "
                                                               "model is built with")
    rms_norm_eps: float | None = Field(default=None, description="replaces RMSNorm's epsilon")
    initializer_range: float | None = Field(default=None,
                                            description="replaces the init std")
    tie_word_embeddings: bool | None = Field(default=None,
                                             description="replaces embedding/head tying")
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2", "flash_attention_3"] = (
        Field(default="sdpa", description="attention kernel: sdpa/eager get a block-diagonal "
                                          "mask, flash_attention_* split documents by "
                                          "position ids (varlen)"))
    cross_document_attention: bool = Field(
        default=False, description="let packed documents attend to each other (GPT-style); "
                                   "default false: attention stays within a document")

    @property
    def overrides(self) -> dict[str, Any]:
        """The preset fields this section replaces."""
        keep = self.model_dump(exclude={"preset", "attn_implementation",
                                        "cross_document_attention"})
        return {key: value for key, value in keep.items() if value is not None}


class EngineConfig(RecipeModel):
    """How steps run: ZeRO, precision, batch, clipping, AdamW (read by codekiln_train.engine)."""

    zero_stage: Literal[0, 1, 2, 3] = Field(
        default=0, description="DeepSpeed ZeRO stage: 0 (DDP), 1 (optimizer states), "
                               "2 (+gradients), 3 (+parameters) sharded over ranks")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto", description="auto: bf16 on GPU, fp32 on CPU")
    micro_batch_size: int = Field(default=1, ge=1,
                                  description="sequences per device per micro step")
    global_batch_tokens: int | None = Field(
        default=None, ge=1, description="tokens per optimizer step over all ranks; sets "
                                        "gradient accumulation = tokens / (micro_batch_size x "
                                        "seq_len x world_size), which must divide exactly")
    gradient_accumulation_steps: int | None = Field(
        default=None, ge=1, description="micro steps per optimizer step, instead of "
                                        "global_batch_tokens (default 1)")
    grad_clip: float = Field(default=1.0, ge=0,
                             description="max global gradient norm (0 = no clipping)")
    activation_checkpointing: bool = Field(
        default=False, description="recompute activations in the backward pass (less memory,"
                                   " ~30% more compute)")
    lr: float = Field(default=3e-4, gt=0, description="AdamW peak learning rate; a stage's "
                                                      "own lr replaces it")
    weight_decay: float = Field(default=0.1, ge=0,
                                description="AdamW decoupled weight decay (not on norms)")
    betas: tuple[float, float] = Field(default=(0.9, 0.95), description="AdamW betas")
    eps: float = Field(default=1e-8, gt=0, description="AdamW epsilon")

    @model_validator(mode="after")
    def _one_batch_size(self) -> EngineConfig:
        if self.global_batch_tokens is not None and self.gradient_accumulation_steps is not None:
            raise ValueError("give global_batch_tokens or gradient_accumulation_steps, not both")
        if not all(0 <= beta < 1 for beta in self.betas):
            raise ValueError(f"betas {self.betas} must each be in [0, 1)")
        return self


class CheckpointConfig(RecipeModel):
    """When checkpoints are written (atomically) and how many are kept."""

    every_steps: int = Field(default=1000, ge=1,
                             description="optimizer steps between checkpoints (and one at the "
                                         "end of every stage)")
    keep_last: int = Field(default=2, ge=1, description="checkpoints kept; older ones are "
                                                        "deleted (stage-final ones are kept)")


class LogConfig(RecipeModel):
    """How often metrics and validation loss are computed."""

    every_steps: int = Field(default=1, ge=1, description="optimizer steps between metric logs")
    eval_every_steps: int | None = Field(default=None, ge=1,
                                         description="steps between validation losses "
                                                     "(null: only at the end of a stage)")
    eval_batches: int = Field(default=8, ge=1,
                              description="validation micro-batches per evaluation")


STAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class StageSpec(RecipeModel):
    """One stage: its data, its budget, its learning rate, its context length and RoPE θ.

    A stage after the first starts from the previous stage's final checkpoint (weights,
    not optimizer or data position: a new mixture and schedule begin).
    """

    name: str = Field(description="stage name (lowercase letters, digits, - _ .): "
                                  "checkpoint subdirectory and MLflow run name")
    mixture: list[ShardSetRef] = Field(min_length=1,
                                       description="shard sets sampled by weight")
    validation: Path | None = Field(default=None,
                                    description="held-out shard set for validation loss "
                                                "(same tokenizer; any seq_len)")
    tokens: int | None = Field(default=None, ge=1,
                               description="token budget; steps = ceil(tokens / tokens per "
                                           "step). Give tokens or steps")
    steps: int | None = Field(default=None, ge=1,
                              description="optimizer steps, instead of tokens")
    lr: float | None = Field(default=None, gt=0,
                             description="peak learning rate (default: engine.lr)")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig,
                                     description="lr shape within the stage")
    rope_theta: float | None = Field(default=None, gt=0,
                                     description="RoPE base for this stage (default: the "
                                                 "previous stage's, else the model's)")
    seq_len: int | None = Field(default=None, ge=2,
                                description="tokens per sequence; must equal the shards' "
                                            "seq_len (needed when shards are not read)")
    micro_batch_size: int | None = Field(default=None, ge=1,
                                         description="replaces engine.micro_batch_size "
                                                     "(long-context stages need fewer)")

    @model_validator(mode="after")
    def _one_budget(self) -> StageSpec:
        if (self.tokens is None) == (self.steps is None):
            raise ValueError("give exactly one of tokens and steps")
        if not STAGE_NAME.match(self.name):
            raise ValueError(f"name {self.name!r}: use lowercase letters, digits, - _ .")
        return self


class LaunchSettings(RecipeModel):
    """How a training command starts its processes: here, or one per GPU through
    DeepSpeed's launcher (pretraining and post-training alike)."""

    launcher: Literal["none", "deepspeed"] = Field(
        "none", description="none: this process (CPU or one GPU; under torchrun, each rank); "
        "deepspeed: DeepSpeed's launcher starts one process per GPU on every host")
    hostfile: Path | None = Field(None, description="DeepSpeed hostfile ('host slots=N' per "
                                  "line) for multi-node runs (launcher deepspeed)")
    num_gpus: int | None = Field(None, ge=1, description="launcher deepspeed: GPUs per host "
                                 "(default: all)")
    master_port: int | None = Field(None, ge=1, le=65535, description="launcher deepspeed: "
                                    "rank 0's rendezvous port (default: the shell's "
                                    "MASTER_PORT, else DeepSpeed's 29500)")

    @model_validator(mode="after")
    def _hostfile_needs_the_launcher(self) -> LaunchSettings:
        if self.hostfile is not None and self.launcher != "deepspeed":
            raise ValueError("hostfile needs launcher deepspeed (one process runs without a "
                             "hostfile)")
        return self


class PretrainRecipe(LaunchSettings):
    """``codekiln train pretrain RECIPE``: a model, its stages, and how to run them."""

    model: ModelSection = Field(description="preset and field overrides")
    stages: list[StageSpec] = Field(min_length=1,
                                    description="run in order, each from the previous one's "
                                                "final checkpoint")
    engine: EngineConfig = Field(default_factory=EngineConfig,
                                 description="ZeRO, precision, batch, optimizer")
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig,
                                         description="checkpoint cadence and retention")
    log: LogConfig = Field(default_factory=LogConfig, description="metrics and validation")
    seed: int = Field(default=0, description="seeds weights, data order and dropout")
    output: Path = Field(description="run directory: checkpoints per stage, the exported "
                                     "model (relative: from the working directory)")
    register_as: str | None = Field(None, description="register the final model in the MLflow "
                                 "registry under this name")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where to train")
    threads: int | None = Field(None, ge=1, description="CPU threads for torch in each "
                                "process")
    peak_flops: float | None = Field(None, gt=0, description="peak FLOP/s of one device for "
                                     "MFU (default: table by GPU name; measured matmul rate "
                                     "on CPU)")

    @model_validator(mode="after")
    def _unique_stage_names(self) -> PretrainRecipe:
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names {names} repeat; each stage needs its own name")
        return self


def load_pretrain_recipe(path: str | Path, sets: Sequence[str] = (), *,
                         check_paths: bool = True, world_size: int = 1) -> PretrainRecipe:
    """Read, override (``--set``), validate and plan ``path``; every error is one line
    naming the file, the key path, the value and what is allowed.

    ``check_paths=False`` validates structure, shapes and budgets without reading any shard
    manifest (a cluster recipe on a laptop); every stage then needs ``seq_len``.
    """
    from codekiln_train.stage_plan import check_stage_shards, stage_plan

    recipe = load_recipe(path, PretrainRecipe, sets)
    infos = check_stage_shards(recipe, source=str(path)) if check_paths else None
    stage_plan(recipe, infos, world_size=world_size, source=str(path))
    return recipe


def recipe_reference() -> str:
    """A Markdown table of every recipe key (docs/train.md embeds it; a test compares)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    sections: list[tuple[str, type[RecipeModel]]] = [
        ("", PretrainRecipe), ("model.", ModelSection), ("engine.", EngineConfig),
        ("checkpoint.", CheckpointConfig), ("log.", LogConfig), ("stages[].", StageSpec),
        ("stages[].mixture[].", ShardSetRef), ("stages[].schedule.", ScheduleConfig)]
    for prefix, model in sections:
        for name, field in model.model_fields.items():
            default = "required" if field.is_required() else (
                "(defaults)" if field.default_factory is not None else f"`{field.default!r}`")
            rows.append(f"| `{prefix}{name}` | {default} | {field.description or ''} |")
    return "\n".join(rows) + "\n"
