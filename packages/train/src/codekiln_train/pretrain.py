"""``codekiln train pretrain``: the staged recipe, stage after stage, with lineage.

Each stage trains on its own mixture and budget with a fresh optimizer and schedule, starting
from the previous stage's exported weights (RoPE θ and context length per stage). Layout of
``recipe.output``::

    metrics.jsonl                      one line per logged step, all stages on one step axis
    stages/01-<name>/checkpoints/      step-XXXXXXXX/ (DeepSpeed files + per-rank state)
    stages/01-<name>/hf/               the stage's weights as a Hugging Face checkpoint
    stages/01-<name>/done.json         written last: the stage is complete
    model/                             the final stage's export: the released checkpoint
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_train.engine.config import accumulation_steps

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef, LineageRun
    from codekiln_train.data import ShardInfo
    from codekiln_train.loop import TrainSummary
    from codekiln_train.recipe import PretrainRecipe, StageSpec

DONE = "done.json"
METRICS = "metrics.jsonl"
MODEL_DIR = "model"


@dataclass(frozen=True)
class StagePlan:
    """One stage, checked and sized before anything heavy is imported."""

    index: int
    spec: StageSpec
    info: ShardInfo
    seq_len: int
    gradient_accumulation: int
    tokens_per_step: int
    steps: int
    directory: Path
    export_dir: Path

    @property
    def label(self) -> str:
        return f"{self.index + 1:02d}-{self.spec.name}"


@dataclass
class PretrainResult:
    output: Path
    stages: list[tuple[StagePlan, TrainSummary | None]] = field(default_factory=list)
    model_dir: Path | None = None
    run_id: str | None = None
    model_uri: str | None = None


def world_size_from_env() -> int:
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def plan_stages(recipe: PretrainRecipe, *, world_size: int = 1) -> list[StagePlan]:
    """Check every stage's shard sets and budget; one-line errors before any heavy work."""
    from codekiln_train.data import check_shard_sets
    from codekiln_train.recipe import ShardSetRef

    if not recipe.stages:
        raise ConfigError("recipe.stages: empty; give at least one stage")
    plans: list[StagePlan] = []
    root = Path(recipe.output)
    for index, spec in enumerate(recipe.stages):
        source = f"stages[{index}] ({spec.name})"
        info = check_shard_sets(spec.mixture, expect_seq_len=spec.seq_len, source=source)
        if spec.validation is not None:
            held_out = check_shard_sets([ShardSetRef(path=spec.validation)],
                                        expect_seq_len=info.seq_len,
                                        source=f"{source}.validation")
            if held_out.tokenizer_sha256 != info.tokenizer_sha256:
                raise ConfigError(f"{source}.validation {spec.validation}: made with another "
                                  "tokenizer than the stage's mixture; rebuild it with the "
                                  "same --tokenizer")
        if plans and info.tokenizer_sha256 != plans[0].info.tokenizer_sha256:
            raise ConfigError(f"{source}: its shards use another tokenizer than stage 1's; "
                              "every stage must share one vocabulary")
        gas = accumulation_steps(recipe.engine, seq_len=info.seq_len, world_size=world_size)
        per_step = recipe.engine.micro_batch_size * info.seq_len * gas * world_size
        steps = int(spec.steps) if spec.steps is not None else \
            math.ceil(int(spec.tokens or 0) / per_step)
        if steps < 1:
            raise ConfigError(f"{source}: a budget of {spec.tokens} tokens is under one step "
                              f"({per_step} tokens); raise stages[{index}].tokens")
        directory = root / "stages" / f"{index + 1:02d}-{spec.name}"
        last = index == len(recipe.stages) - 1
        plans.append(StagePlan(index, spec, info, info.seq_len, gas, per_step, steps,
                               directory, root / MODEL_DIR if last else directory / "hf"))
    return plans


def shard_inputs(plans: list[StagePlan]) -> list[InputRef]:
    """Each shard set once: its manifest digest and the curate run that wrote it."""
    from codekiln_core.lineage import InputRef, read_marker

    refs: dict[str, InputRef] = {}
    for plan in plans:
        named = [(s.name, s.path, s.manifest_sha256) for s in plan.info.sets]
        if plan.spec.validation is not None:
            named.append(("validation", Path(plan.spec.validation), ""))
        for name, path, digest in named:
            resolved = path.resolve()
            if str(resolved) in refs:
                continue
            marker = read_marker(resolved) or {}
            if not digest:
                import hashlib

                digest = hashlib.sha256((resolved / "manifest.json").read_bytes()).hexdigest()
            refs[str(resolved)] = InputRef(name=f"{plan.spec.name}/{name}",
                                           source=str(resolved), digest=digest[:16],
                                           upstream_run_id=marker.get("run_id"))
    return list(refs.values())


def check_output(recipe: PretrainRecipe, resume: bool) -> None:
    stages = Path(recipe.output) / "stages"
    if not resume and stages.is_dir() and any(stages.iterdir()):
        raise ConfigError(f"output {recipe.output}: holds a previous run; pass --resume to "
                          "continue it, or set output to a new directory (--set output=...)")


def run_pretrain(recipe: PretrainRecipe, *, recipe_file: Path | None = None,
                 resume: bool = False, register: str | None = None, lineage: bool = True,
                 peak_flops: float | None = None, device: str | None = None) -> PretrainResult:
    """Everything the command does; the CLI only parses options and prints the summary."""
    from codekiln_core.lineage.command import lineage_command

    check_output(recipe, resume)
    plans = plan_stages(recipe, world_size=world_size_from_env())
    import os

    rank = int(os.environ.get("RANK", "0"))
    result = PretrainResult(Path(recipe.output))
    with lineage_command("train.pretrain", config=recipe, inputs=shard_inputs(plans),
                         recipe_file=recipe_file, enabled=lineage and rank == 0) as run:
        run.log_params({"stages.steps": [p.steps for p in plans],
                        "stages.tokens_per_step": [p.tokens_per_step for p in plans],
                        "world_size": world_size_from_env()})
        offset = 0
        for plan in plans:
            summary = run_stage(recipe, plan, plans, run=run, resume=resume, offset=offset,
                                peak_flops=peak_flops, device=device)
            result.stages.append((plan, summary))
            offset += plan.steps
        result.model_dir = plans[-1].export_dir
        if rank == 0 and run.enabled:
            result.model_uri = run.log_model(result.model_dir, name="pretrain",
                                             register_as=register)
        result.run_id = run.run_id
    return result


def run_stage(recipe: PretrainRecipe, plan: StagePlan, plans: list[StagePlan], *,
              run: LineageRun, resume: bool, offset: int, peak_flops: float | None,
              device: str | None) -> TrainSummary | None:
    """Train one stage (or skip it when a resumed run finished it already)."""
    from codekiln_core.fsio import atomic_write_json

    if resume and (plan.directory / DONE).is_file() and plan.export_dir.is_dir():
        return None
    from codekiln_train.data import build_batch_source, validation_batches
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.export import export_hf
    from codekiln_train.loop import LoopConfig, causal_lm_loss, train

    model = stage_model(recipe, plan, plans)
    engine_config = recipe.engine.model_copy(update={"lr": plan.spec.lr})
    engine = Engine.create(model, engine_config, schedule=plan.spec.schedule,
                           total_steps=plan.steps, seq_len=plan.seq_len, device=device)
    attn = getattr(recipe.model, "attn_implementation", "sdpa")
    batches = build_batch_source(plan.spec.mixture,
                                 micro_batch_size=recipe.engine.micro_batch_size,
                                 seed=recipe.seed + plan.index, rank=engine.rank,
                                 world_size=engine.world_size, attn_implementation=attn,
                                 expect_seq_len=plan.spec.seq_len)
    validation = None
    if plan.spec.validation is not None:
        held_out = Path(plan.spec.validation)

        def validation() -> Any:
            return validation_batches(held_out, micro_batch_size=recipe.engine.micro_batch_size,
                                      max_batches=recipe.log.eval_batches,
                                      attn_implementation=attn)

    loop = LoopConfig(total_steps=plan.steps, log=recipe.log, checkpoint=recipe.checkpoint,
                      seed=recipe.seed + plan.index,
                      peak_flops=peak_flops or getattr(recipe.log, "peak_flops", None))
    from codekiln_train.models import flops_per_token, resolve_model_config

    model_cfg = resolve_model_config(recipe.model.preset, recipe.model.overrides)
    summary = train(engine=engine, batches=batches, loss_fn=causal_lm_loss, loop=loop,
                    checkpoint_dir=plan.directory / "checkpoints", run=run,
                    tokens_per_step=plan.tokens_per_step,
                    flops_per_token=flops_per_token(model_cfg, plan.info.vocab_size,
                                                    plan.seq_len),
                    validation=validation, resume=resume,
                    progress_label=f"stage {plan.index + 1}/{len(plans)} {plan.spec.name}",
                    metrics_file=Path(recipe.output) / METRICS, step_offset=offset)
    export_hf(engine.module, tokenizer_dir=plan.info.tokenizer_dir, out_dir=plan.export_dir,
              bos_token_id=plan.info.bos_token_id if plan.info.bos_token_id is not None
              else plan.info.eos_token_id,
              eos_token_id=plan.info.eos_token_id, pad_token_id=plan.info.pad_token_id)
    if engine.rank == 0:
        atomic_write_json(plan.directory / DONE, {
            "steps": summary.steps, "tokens": summary.tokens, "final_loss": summary.final_loss,
            "final_val_loss": summary.final_val_loss, "export": str(plan.export_dir)})
    engine.wrapped.destroy()
    return summary


def stage_model(recipe: PretrainRecipe, plan: StagePlan, plans: list[StagePlan]) -> Any:
    """Stage 1: fresh weights from the preset; later stages: the previous stage's export.

    The stage's RoPE θ and context length are applied to the model config either way.
    """
    from dataclasses import replace

    from codekiln_train.models import build_model, resolve_model_config, set_rope_theta

    cfg = resolve_model_config(recipe.model.preset, recipe.model.overrides)
    theta = plan.spec.rope_theta
    if plan.index == 0:
        cfg = replace(cfg, rope_theta=float(theta or cfg.rope_theta),
                      max_position_embeddings=max(cfg.max_position_embeddings, plan.seq_len))
        info = plan.info
        return build_model(cfg, vocab_size=info.vocab_size, bos_token_id=info.bos_token_id,
                           eos_token_id=info.eos_token_id, pad_token_id=info.pad_token_id,
                           seed=recipe.seed)
    import torch
    from transformers import AutoModelForCausalLM

    previous = plans[plan.index - 1].export_dir
    if not (previous / "config.json").is_file():
        raise ConfigError(f"stage {plan.label} starts from {previous}, which is missing; "
                          "rerun with --resume to finish the previous stage first")
    model = AutoModelForCausalLM.from_pretrained(str(previous), dtype=torch.float32)
    model.config.use_cache = False
    model.config.max_position_embeddings = max(model.config.max_position_embeddings,
                                               plan.seq_len)
    if theta is not None:
        set_rope_theta(model, float(theta))
    return model
