"""Resolve a recipe's stages into runnable plans: steps from token budgets, gradient
accumulation from the global batch, learning rate and RoPE θ per stage, all checked.

``check_stage_shards`` reads the manifests (cheap, JSON only); ``stage_plan`` then works
without touching the filesystem, so a cluster recipe validates on a laptop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from codekiln_core.errors import ConfigError
from codekiln_train.data.shardset import (
    ShardInfo,
    ShardSetInfo,
    check_shard_sets,
    check_validation_set,
)
from codekiln_train.models.released import section_shape
from codekiln_train.recipe import EngineConfig, PretrainRecipe, ScheduleConfig, StageSpec
from codekiln_train.schedule import check_schedule


@dataclass(frozen=True)
class StagePlan:
    """One stage, resolved: what the engine and loop run."""

    index: int
    name: str
    spec: StageSpec
    seq_len: int
    micro_batch_size: int
    gradient_accumulation_steps: int
    world_size: int
    tokens_per_step: int  # micro_batch_size x seq_len x accumulation x world_size
    steps: int  # optimizer steps of this stage
    tokens: int  # steps x tokens_per_step (>= the budget; the last step is whole)
    lr: float
    rope_theta: float
    schedule: ScheduleConfig
    engine: EngineConfig  # the recipe's engine with this stage's lr, mbs and accumulation
    first_step: int  # optimizer steps of the stages before this one
    init_from: str | None  # the stage whose final checkpoint this one starts from
    info: ShardInfo | None  # None when the shards were not read (check_paths=False)
    validation: ShardSetInfo | None


def check_stage_shards(recipe: PretrainRecipe, *, source: str = "recipe"
                       ) -> dict[str, ShardInfo]:
    """Every stage's manifests: mixture sets agree, validation matches, one tokenizer."""
    infos: dict[str, ShardInfo] = {}
    first: tuple[str, ShardInfo] | None = None
    for index, stage in enumerate(recipe.stages):
        where = f"{source}: stages.{index} ({stage.name})"
        info = check_shard_sets(stage.mixture, expect_seq_len=stage.seq_len, source=where)
        if stage.validation is not None:
            check_validation_set(stage.validation, info, source=where)
        if first is not None and info.tokenizer_sha256 != first[1].tokenizer_sha256:
            raise ConfigError(f"{where}: shards use tokenizer {info.tokenizer_sha256[:12]}..., "
                              f"stage {first[0]!r} {first[1].tokenizer_sha256[:12]}...; one "
                              "model needs one tokenizer across its stages")
        first = first or (stage.name, info)
        infos[stage.name] = info
    return infos


def _accumulation(engine: EngineConfig, mbs: int, seq_len: int, world: int,
                  where: str) -> int:
    if engine.global_batch_tokens is None:
        return engine.gradient_accumulation_steps or 1
    per_micro = mbs * seq_len * world
    if engine.global_batch_tokens % per_micro:
        below = max(per_micro, engine.global_batch_tokens // per_micro * per_micro)
        raise ConfigError(
            f"{where}: engine.global_batch_tokens = {engine.global_batch_tokens} is not a "
            f"multiple of micro_batch_size x seq_len x world_size = {mbs} x {seq_len} x "
            f"{world} = {per_micro}; use {below} or {below + per_micro}")
    return engine.global_batch_tokens // per_micro


def stage_plan(recipe: PretrainRecipe, shard_infos: Mapping[str, ShardInfo] | None = None,
               *, world_size: int = 1, source: str = "recipe") -> list[StagePlan]:
    """The stages in order, resolved and validated (one-line ConfigError naming the key)."""
    model = section_shape(recipe.model, source=f"{source}: model")
    plans: list[StagePlan] = []
    theta = model.rope_theta
    first_step = 0
    for index, stage in enumerate(recipe.stages):
        where = f"{source}: stages.{index} ({stage.name})"
        info = (shard_infos or {}).get(stage.name)
        seq_len = info.seq_len if info is not None else stage.seq_len
        if seq_len is None:
            raise ConfigError(f"{where}: seq_len is needed when the shards are not read; set "
                              f"stages.{index}.seq_len")
        if seq_len > model.max_position_embeddings:
            raise ConfigError(f"{where}: seq_len {seq_len} exceeds the model's "
                              f"max_position_embeddings {model.max_position_embeddings}; "
                              "raise model.max_position_embeddings")
        mbs = stage.micro_batch_size or recipe.engine.micro_batch_size
        accumulation = _accumulation(recipe.engine, mbs, seq_len, world_size, where)
        tokens_per_step = mbs * seq_len * accumulation * world_size
        steps = stage.steps or math.ceil((stage.tokens or 0) / tokens_per_step)
        check_schedule(stage.schedule, steps, source=f"{where}.schedule")
        theta = stage.rope_theta or theta
        lr = stage.lr or recipe.engine.lr
        engine = recipe.engine.model_copy(update={
            "lr": lr, "micro_batch_size": mbs, "gradient_accumulation_steps": accumulation,
            "global_batch_tokens": None})
        validation = None
        if info is not None and stage.validation is not None:
            validation = check_validation_set(stage.validation, info, source=where)
        plans.append(StagePlan(
            index=index, name=stage.name, spec=stage, seq_len=seq_len, micro_batch_size=mbs,
            gradient_accumulation_steps=accumulation, world_size=world_size,
            tokens_per_step=tokens_per_step, steps=steps, tokens=steps * tokens_per_step,
            lr=lr, rope_theta=theta, schedule=stage.schedule, engine=engine,
            first_step=first_step, init_from=plans[-1].name if plans else None, info=info,
            validation=validation))
        first_step += steps
    return plans
