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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef, LineageRun
    from codekiln_train.loop import TrainSummary
    from codekiln_train.models import ModelConfig
    from codekiln_train.recipe import PretrainRecipe
    from codekiln_train.stage_plan import StagePlan

DONE = "done.json"
METRICS = "metrics.jsonl"
MODEL_DIR = "model"


def stage_dir(recipe: PretrainRecipe, plan: StagePlan) -> Path:
    return Path(recipe.output) / "stages" / f"{plan.index + 1:02d}-{plan.name}"


def export_dir(recipe: PretrainRecipe, plan: StagePlan) -> Path:
    """Stage-final weights; the last stage's export is the run's model."""
    if plan.index == len(recipe.stages) - 1:
        return Path(recipe.output) / MODEL_DIR
    return stage_dir(recipe, plan) / "hf"


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


def plan_stages(recipe: PretrainRecipe, *, world_size: int = 1,
                source: str = "recipe") -> list[StagePlan]:
    """Every stage checked against its shards and sized; one-line errors before heavy work."""
    from codekiln_train.stage_plan import check_stage_shards, stage_plan

    infos = check_stage_shards(recipe, source=source)
    return stage_plan(recipe, infos, world_size=world_size, source=source)


def shard_inputs(plans: list[StagePlan]) -> list[InputRef]:
    """Each shard set once: its manifest digest and the curate run that wrote it."""
    from codekiln_core.lineage import InputRef, read_marker

    refs: dict[str, InputRef] = {}
    for plan in plans:
        assert plan.info is not None
        named = [(s.name, s.path, s.manifest_sha256) for s in plan.info.sets]
        if plan.validation is not None:
            named.append(("validation", plan.validation.path, plan.validation.manifest_sha256))
        for name, path, digest in named:
            resolved = Path(path).resolve()
            if str(resolved) not in refs:
                marker = read_marker(resolved) or {}
                refs[str(resolved)] = InputRef(name=f"{plan.name}/{name}",
                                               source=str(resolved), digest=digest[:16],
                                               upstream_run_id=marker.get("run_id"))
    return list(refs.values())


def run_pretrain(recipe: PretrainRecipe, *, run: LineageRun | None = None,
                 resume: bool = False, source: str = "recipe") -> PretrainResult:
    """Every stage in order, logged to ``run`` (rank 0's; a disabled one elsewhere).

    ``resume`` continues an interrupted run in ``recipe.output`` (finished stages are
    skipped); ``source`` names the recipe in error messages.
    """
    import os

    from codekiln_core.lineage import LineageRun
    from codekiln_core.threads import use_threads

    run = run if run is not None else LineageRun(None)
    use_threads(recipe.threads)
    plans = plan_stages(recipe, world_size=world_size_from_env(), source=source)
    rank = int(os.environ.get("RANK", "0"))
    result = PretrainResult(Path(recipe.output))
    run.log_params({"plan.steps": [p.steps for p in plans],
                    "plan.tokens_per_step": [p.tokens_per_step for p in plans],
                    "plan.gradient_accumulation_steps":
                        [p.gradient_accumulation_steps for p in plans],
                    "plan.world_size": world_size_from_env()})
    for plan in plans:
        summary = run_stage(recipe, plan, plans, run=run, resume=resume)
        result.stages.append((plan, summary))
    result.model_dir = export_dir(recipe, plans[-1])
    if rank == 0 and run.enabled:
        result.model_uri = run.log_model(result.model_dir, name="pretrain",
                                         register_as=recipe.register_as)
    result.run_id = run.run_id
    return result


def run_stage(recipe: PretrainRecipe, plan: StagePlan, plans: list[StagePlan], *,
              run: LineageRun, resume: bool) -> TrainSummary | None:
    """Train one stage (or skip it when a resumed run finished it already)."""
    from codekiln_core.fsio import atomic_write_json

    directory, out = stage_dir(recipe, plan), export_dir(recipe, plan)
    if resume and (directory / DONE).is_file() and (out / "config.json").is_file():
        return None
    from codekiln_train.data import build_batch_source
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.export import export_hf
    from codekiln_train.loop import LoopConfig, causal_lm_loss, train
    from codekiln_train.models import flops_per_token

    assert plan.info is not None
    info = plan.info
    device = None if recipe.device == "auto" else recipe.device
    model = stage_model(recipe, plan, plans, device=device)
    engine = Engine.create(model, plan.engine, schedule=plan.schedule, total_steps=plan.steps,
                           seq_len=plan.seq_len, device=device)
    attn = recipe.model.attn_implementation
    cross = recipe.model.cross_document_attention
    batches = build_batch_source(plan.spec.mixture, micro_batch_size=plan.micro_batch_size,
                                 seed=recipe.seed + plan.index, rank=engine.rank,
                                 world_size=engine.world_size, cross_document_attention=cross,
                                 attn_implementation=attn, expect_seq_len=plan.seq_len)
    loop = LoopConfig(total_steps=plan.steps, log=recipe.log, checkpoint=recipe.checkpoint,
                      seed=recipe.seed + plan.index, peak_flops=recipe.peak_flops,
                      eval_at_start=recipe.log.eval_at_start)
    summary = train(engine=engine, batches=batches, loss_fn=causal_lm_loss, loop=loop,
                    checkpoint_dir=directory / "checkpoints", run=run,
                    tokens_per_step=plan.tokens_per_step,
                    flops_per_token=flops_per_token(model_config(recipe, plan),
                                                    info.vocab_size, plan.seq_len),
                    validation=validation_of(recipe, plan), resume=resume,
                    progress_label=f"stage {plan.index + 1}/{len(plans)} {plan.name}",
                    metrics_file=Path(recipe.output) / METRICS, step_offset=plan.first_step)
    bos = info.bos_token_id if info.bos_token_id is not None else info.eos_token_id
    export_hf(engine.module, tokenizer_dir=info.tokenizer_dir, out_dir=out, bos_token_id=bos,
              eos_token_id=info.eos_token_id, pad_token_id=info.pad_token_id,
              fim_layout=info.fim_layout)
    if engine.rank == 0:
        atomic_write_json(directory / DONE, {
            "steps": summary.steps, "tokens": summary.tokens, "final_loss": summary.final_loss,
            "initial_val_loss": summary.initial_val_loss,
            "final_val_loss": summary.final_val_loss, "export": str(out)})
    engine.wrapped.destroy()
    return summary


def validation_of(recipe: PretrainRecipe,
                  plan: StagePlan) -> Callable[[], Iterable[dict[str, Any]]] | None:
    """The stage's held-out batches, the same on every call (None without a set)."""
    if plan.validation is None:
        return None
    from codekiln_train.data import validation_batches

    held_out = plan.validation.path

    def batches() -> Iterable[dict[str, Any]]:
        return validation_batches(held_out, micro_batch_size=plan.micro_batch_size,
                                  max_batches=recipe.log.eval_batches,
                                  cross_document_attention=recipe.model.cross_document_attention,
                                  attn_implementation=recipe.model.attn_implementation)

    return batches


def model_config(recipe: PretrainRecipe, plan: StagePlan) -> ModelConfig:
    """The preset (or released config) with the recipe's overrides, this stage's θ and its
    context length."""
    from dataclasses import replace

    from codekiln_train.models.released import section_shape

    cfg = section_shape(recipe.model)
    return replace(cfg, rope_theta=float(plan.rope_theta),
                   max_position_embeddings=max(cfg.max_position_embeddings, plan.seq_len))


def stage_model(recipe: PretrainRecipe, plan: StagePlan, plans: list[StagePlan], *,
                device: str | None = None) -> Any:
    """Stage 1: fresh weights from the preset, or the released weights of ``model.from``;
    later stages: the previous stage's export.

    The stage's RoPE θ and context length are applied to the model config either way.
    """
    from codekiln_train.models import build_model

    cfg = model_config(recipe, plan)
    info = plan.info
    assert info is not None
    if plan.index == 0 and recipe.model.from_ is None:
        return build_model(cfg, vocab_size=info.vocab_size, bos_token_id=info.bos_token_id,
                           eos_token_id=info.eos_token_id, pad_token_id=info.pad_token_id,
                           seed=recipe.seed, attn_implementation=recipe.model.attn_implementation)
    if plan.index == 0:
        return fit_to_stage(released_model(recipe, plan, device=device), cfg,
                            where=f"model.from {recipe.model.from_!r}")
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    previous = export_dir(recipe, plans[plan.index - 1])
    if not (previous / "config.json").is_file():
        raise ConfigError(f"stage {plan.name} starts from {previous}, which is missing; "
                          "rerun with --resume to finish the previous stage first")
    model = AutoModelForCausalLM.from_pretrained(
        str(previous), dtype=torch.float32, attn_implementation=recipe.model.attn_implementation)
    rows = model.get_input_embeddings().num_embeddings
    if rows < info.vocab_size:
        raise ConfigError(f"stage {plan.name} starts from {previous}, whose embedding has "
                          f"{rows} rows, but its shards' vocab_size is {info.vocab_size} "
                          "(replaced after that stage finished?); restore it, or train again "
                          "into a new --output")
    return fit_to_stage(model, cfg, where=f"stage {plan.name}")


def released_model(recipe: PretrainRecipe, plan: StagePlan, *, device: str | None) -> Any:
    """``model.from`` loaded for this stage's engine (straight into ZeRO-3 partitions under
    stage 3), its embedding grown to the shards' vocabulary when the tokenizer gained
    tokens (FIM sentinels added by ``curate tokenizer adopt``)."""
    import json
    import sys

    from codekiln_core.start_model import parse_start_model, start_model_dir
    from codekiln_train.engine.deepspeed_engine import engine_setup
    from codekiln_train.models.released import check_tokenizer_extends, load_released

    info = plan.info
    assert info is not None and recipe.model.from_ is not None
    where = f"model.from {recipe.model.from_!r}"
    model_dir = start_model_dir(parse_start_model(recipe.model.from_, key="model.from"))
    rows = int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
               ["vocab_size"])
    check_tokenizer_extends(model_dir, info.tokenizer_dir, rows=rows, source=where)
    setup = engine_setup(plan.engine, seq_len=plan.seq_len, device=device)
    model, added = load_released(model_dir, rows=info.vocab_size, dtype=setup.dtype,
                                 attn_implementation=recipe.model.attn_implementation,
                                 zero3_config=setup.deepspeed_config
                                 if plan.engine.zero_stage == 3 else None)
    if added and setup.rank == 0:
        print(f"{where}: embedding grown from {rows} to {info.vocab_size} rows for the "
              "tokens the shards' tokenizer added (each new row = the mean of the old rows)",
              file=sys.stderr)
    return model


def fit_to_stage(model: Any, cfg: ModelConfig, *, where: str) -> Any:
    """The stage's context length and RoPE base on a loaded model. θ is only rewritten when
    it changes, and never over a scaled RoPE (Llama 3.1's would be lost)."""
    from codekiln_train.models import set_rope_theta
    from codekiln_train.models.released import rope_of

    model.config.use_cache = False
    model.config.max_position_embeddings = cfg.max_position_embeddings
    theta, kind = rope_of(model.config.to_dict())
    if theta != cfg.rope_theta:
        if kind != "default":
            raise ConfigError(f"{where}: its RoPE is {kind!r}-scaled; changing θ from "
                              f"{theta:g} to {cfg.rope_theta:g} would drop the scaling; leave "
                              "the stage's rope_theta unset")
        set_rope_theta(model, cfg.rope_theta)
    return model
