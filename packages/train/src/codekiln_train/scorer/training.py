"""Training the quality scorer: labels -> regression checkpoint, held-out metrics, curves.

The scorer is a regression fine-tune on train's own pieces: the model comes from
``codekiln_train.models`` (the same Llama builder as pretraining, with a 1-output head), and
it trains through the DeepSpeed ``Engine`` (AdamW without decay on norms, gradient clipping,
fp32 on CPU, bf16 on GPU) and ``loop.train`` (seeding, the cosine schedule of
``codekiln_train.schedule``, validation, progress and the curves logged to the run). It is
one process and writes no training checkpoints: the finished model is saved whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_dir, atomic_write_json
from codekiln_train.scorer.batches import INPUT_TEMPLATE, encode, format_input
from codekiln_train.scorer.labels import MAX_SCORE, Label, load_labels, split_labels
from codekiln_train.scorer.metrics import ScorerMetrics, evaluate
from codekiln_train.scorer.presets import ScorerRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.loop import TrainSummary

META_FILE = "codekiln_scorer.json"
#: torch's AdamW defaults, which the scorer has always trained with.
ADAMW_BETAS = (0.9, 0.999)
#: The decay ends at this share of the peak learning rate.
MIN_LR_RATIO = 0.1
#: About this many logged training steps, however long the run.
LOGGED_STEPS = 200


@dataclass
class ScorerResult:
    out_dir: Path
    metrics: ScorerMetrics
    train_files: int
    summary: TrainSummary
    model_uri: str | None = None  # the logged (or registered) model, when lineage is on

    @property
    def losses(self) -> list[float]:
        """The training loss at every optimizer step."""
        return [loss for _, loss in self.summary.losses]


def train_steps(files: int, recipe: ScorerRecipe) -> int:
    """Optimizer steps for ``epochs`` passes over ``files`` files, ``batch_size`` per step."""
    return math.ceil(files * recipe.epochs / recipe.batch_size)


def eval_every(total: int, points: int) -> int | None:
    """Steps between validations: at most ``points`` of them, the last at the end (the loop
    always validates at the last step); None: only that last one."""
    return math.ceil(total / points) if points else None


def predictions_0_10(raw: list[float]) -> list[float]:
    """Head outputs back to rubric units, clipped to the rubric's range."""
    return [min(MAX_SCORE, max(0.0, value * MAX_SCORE)) for value in raw]


def train_scorer(recipe: ScorerRecipe, run: LineageRun) -> ScorerResult:
    """Fit on the train split, evaluate on the held-out split, save the checkpoint; the
    curves, the held-out metrics and the model go to ``run``."""
    from codekiln_train.engine.environment import use_threads

    check_one_process()
    use_threads(recipe.threads)
    labels = load_labels(recipe.labels)
    train_set, held_out = split_labels(labels, recipe.eval_percent)
    if not train_set:
        raise ConfigError(f"labels {recipe.labels}: all {len(labels)} files fall in the "
                          "held-out split; add labels or lower eval_percent")
    engine, tokenizer, summary = fit(recipe, train_set, held_out, run)
    raw = predict(engine.module, ids_of(held_out, tokenizer, recipe.max_tokens),
                  recipe.batch_size)
    metrics = evaluate([r.score for r in held_out], predictions_0_10(raw))
    save_checkpoint(engine.module, tokenizer, recipe, metrics)
    engine.wrapped.destroy()
    run.log_metrics({**metrics.as_flat(), "train_files": len(train_set),
                     "final_loss": summary.final_loss})
    model_uri = run.log_model(recipe.output, name="quality-scorer",
                              register_as=recipe.register_as) if run.enabled else None
    return ScorerResult(recipe.output, metrics, len(train_set), summary, model_uri)


def check_one_process() -> None:
    """The scorer has no data-parallel path: under a launcher every rank would write the
    same checkpoint."""
    from codekiln_train.engine.environment import world

    world_size = world()[2]
    if world_size > 1:
        raise ConfigError(f"train scorer runs in one process (WORLD_SIZE is {world_size}); "
                          "start it without a launcher, on one GPU with --device cuda")


def ids_of(rows: list[Label], tokenizer: Any, max_tokens: int) -> list[list[int]]:
    return encode(tokenizer, [format_input(r.language, r.content) for r in rows], max_tokens)


def fit(recipe: ScorerRecipe, train_set: list[Label], held_out: list[Label],
        run: LineageRun) -> tuple[Engine, Any, TrainSummary]:
    """The engine after training, the tokenizer, and the loop's summary."""
    from codekiln_train.loop import train
    from codekiln_train.models import flops_per_token
    from codekiln_train.scorer.batches import LabelBatches, held_out_batches, regression_loss
    from codekiln_train.scorer.tokenizer import scorer_tokenizer

    tokenizer = scorer_tokenizer(recipe.tokenizer, recipe.init,
                                 (label.content for label in train_set), recipe.tokenizer_vocab)
    pad_id = int(tokenizer.pad_token_id)
    total = train_steps(len(train_set), recipe)
    engine = scorer_engine(recipe, scorer_model(recipe, tokenizer), total)
    batches = LabelBatches(ids_of(train_set, tokenizer, recipe.max_tokens),
                           [r.score / MAX_SCORE for r in train_set], batch_size=recipe.batch_size,
                           max_tokens=recipe.max_tokens, pad_id=pad_id, seed=recipe.seed)
    validation = held_out_batches(ids_of(held_out, tokenizer, recipe.max_tokens),
                                  [r.score / MAX_SCORE for r in held_out],
                                  batch_size=recipe.batch_size, max_tokens=recipe.max_tokens,
                                  pad_id=pad_id)
    summary = train(engine=engine, batches=batches, loss_fn=regression_loss,
                    loop=loop_config(recipe, total), checkpoint_dir=None, run=run,
                    tokens_per_step=recipe.batch_size * recipe.max_tokens,
                    flops_per_token=flops_per_token(recipe.decoder_config(), len(tokenizer),
                                                    recipe.max_tokens, head="regression"),
                    validation=(lambda: validation) if validation and recipe.eval_points
                    else None, progress_label="scorer")
    return engine, tokenizer, summary


def scorer_model(recipe: ScorerRecipe, tokenizer: Any) -> Any:
    """Fresh weights of the preset's shape, or ``init``'s with a new 1-output head."""
    from codekiln_train.models import build_model, regression_from_pretrained

    pad_id = int(tokenizer.pad_token_id)
    if recipe.init is not None:
        return regression_from_pretrained(str(recipe.init), pad_token_id=pad_id,
                                          vocab_size=len(tokenizer), seed=recipe.seed)
    return build_model(recipe.decoder_config(), vocab_size=len(tokenizer),
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=pad_id, seed=recipe.seed, head="regression")


def scorer_engine(recipe: ScorerRecipe, model: Any, total_steps: int) -> Engine:
    """Train's engine for one process: ZeRO 0, no accumulation, the recipe's AdamW, and a
    warmup + cosine schedule to 10% of the peak."""
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.recipe import EngineConfig, ScheduleConfig

    settings = EngineConfig(zero_stage=0, precision=recipe.precision,
                            micro_batch_size=recipe.batch_size, gradient_accumulation_steps=1,
                            grad_clip=recipe.grad_clip, lr=recipe.learning_rate,
                            weight_decay=recipe.weight_decay, betas=ADAMW_BETAS)
    schedule = ScheduleConfig(kind="cosine", min_lr_ratio=MIN_LR_RATIO,
                              warmup_steps=int(total_steps * recipe.warmup_fraction))
    return Engine.create(model, settings, schedule=schedule, total_steps=total_steps,
                         seq_len=recipe.max_tokens,
                         device=None if recipe.device == "auto" else recipe.device)


def loop_config(recipe: ScorerRecipe, total: int) -> Any:
    from codekiln_train.loop import LoopConfig
    from codekiln_train.recipe import CheckpointConfig, LogConfig

    log = LogConfig(every_steps=max(1, total // LOGGED_STEPS),
                    eval_every_steps=eval_every(total, recipe.eval_points))
    return LoopConfig(total_steps=total, log=log, checkpoint=CheckpointConfig(),
                      seed=recipe.seed, peak_flops=recipe.peak_flops)


def predict(model: Any, ids: list[list[int]], batch_size: int) -> list[float]:
    """Raw head outputs (about 0-1), in input order; batches are formed longest first."""
    import torch

    from codekiln_train.scorer.batches import pad_batch

    pad_id = int(model.config.pad_token_id)
    device = next(model.parameters()).device
    order = sorted(range(len(ids)), key=lambda i: (-len(ids[i]), i))
    out = [0.0] * len(ids)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch_ids, mask = pad_batch([ids[i] for i in chosen], pad_id)
            logits = model(input_ids=batch_ids.to(device),
                           attention_mask=mask.to(device)).logits
            for i, value in zip(chosen, logits[:, 0].float().cpu().tolist(), strict=True):
                out[i] = value
    return out


def save_checkpoint(model: Any, tokenizer: Any, recipe: ScorerRecipe,
                    metrics: ScorerMetrics) -> None:
    """Written through ``atomic_dir``: a crash never leaves half a checkpoint."""
    with atomic_dir(recipe.output) as tmp:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        atomic_write_json(tmp / META_FILE, checkpoint_meta(recipe, metrics.as_flat()))


def checkpoint_meta(recipe: ScorerRecipe, metrics: dict[str, Any]) -> dict[str, Any]:
    """``codekiln_scorer.json``: how inference must format and scale (read by curate)."""
    return {"format": "codekiln-quality-scorer/1", "input_template": INPUT_TEMPLATE,
            "max_tokens": recipe.max_tokens, "score_scale": MAX_SCORE, "preset": recipe.preset,
            "config": recipe.training_settings(), "held_out": metrics}
