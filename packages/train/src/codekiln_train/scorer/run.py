"""The quality scorer's training: labels -> regression checkpoint, metrics, curves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_dir, atomic_write_json
from codekiln_train.scorer import model as scorer_model
from codekiln_train.scorer.labels import MAX_SCORE, Label, load_labels, split_labels
from codekiln_train.scorer.metrics import ScorerMetrics, evaluate
from codekiln_train.scorer.presets import ScorerConfig, ScorerRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun

META_FILE = "codekiln_scorer.json"


@dataclass
class ScorerResult:
    out_dir: Path
    metrics: ScorerMetrics
    train_files: int
    losses: list[float]
    run_id: str | None
    model_uri: str | None


def predictions_0_10(raw: list[float]) -> list[float]:
    """Head outputs back to rubric units, clipped to the rubric's range."""
    return [min(MAX_SCORE, max(0.0, value * MAX_SCORE)) for value in raw]


def fit(labels: list[Label], config: ScorerConfig, tokenizer_dir: Path | None,
        init: Path | None, device: str,
        on_step: Callable[[int, int, float], None] | None = None) -> tuple[Any, Any, dict[str,
                                                                                       Any]]:
    """Train on the train split; returns (model, tokenizer, summary with metrics)."""
    from codekiln_train.scorer.tokenizer import load_tokenizer, train_bpe_tokenizer

    train_set, held_out = split_labels(labels, config.eval_percent)
    scorer_model.seed_everything(config.seed)
    if tokenizer_dir is not None:
        tokenizer = load_tokenizer(tokenizer_dir)
    elif init is not None:
        tokenizer = load_tokenizer(init)
    else:
        tokenizer = train_bpe_tokenizer((lab.content for lab in train_set),
                                        config.tokenizer_vocab)
    model = scorer_model.build_model(config, tokenizer, init)

    def ids_of(rows: list[Label]) -> list[list[int]]:
        texts = [scorer_model.format_input(r.language, r.content) for r in rows]
        return scorer_model.encode(tokenizer, texts, config.max_tokens)

    held_out_ids = ids_of(held_out)
    curves = scorer_model.train(model, ids_of(train_set),
                                [r.score / MAX_SCORE for r in train_set], config, device, on_step,
                                held_out=(held_out_ids, [r.score / MAX_SCORE for r in held_out]))
    raw = scorer_model.predict(model, held_out_ids, config.batch_size, device)
    metrics = evaluate([r.score for r in held_out], predictions_0_10(raw))
    summary = {"train_files": len(train_set), "held_out_files": len(held_out),
               "metrics": metrics, "losses": curves.losses, "curves": curves}
    return model, tokenizer, summary


def save_checkpoint(model: Any, tokenizer: Any, out: Path, config: ScorerConfig,
                    metrics: ScorerMetrics) -> None:
    """Written through ``atomic_dir``: a crash never leaves half a checkpoint."""
    with atomic_dir(out) as tmp:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        meta = scorer_model.checkpoint_meta(config, metrics.as_flat())
        atomic_write_json(tmp / META_FILE, meta)


def log_curves(run: Any, curves: scorer_model.TrainCurves, points: int = 200) -> None:
    """train_loss and lr at about ``points`` steps (the last included), val_loss at each of
    its steps; steps count optimizer steps from 1."""
    total = len(curves.losses)
    stride = max(1, total // points)
    steps = sorted({*range(1, total + 1, stride), total} if total else set())
    for step in steps:
        run.log_metrics({"train_loss": curves.losses[step - 1], "lr": curves.lrs[step - 1]},
                        step=step)
    for step, loss in curves.val_losses:
        run.log_metrics({"val_loss": loss}, step=step)


def train_scorer(recipe: ScorerRecipe, run: LineageRun, *,
                 on_step: Callable[[int, int, float], None] | None = None) -> ScorerResult:
    """Fit, evaluate and save the checkpoint; log metrics, curves and the model to ``run``."""
    labels = load_labels(recipe.labels)
    device = scorer_model.resolve_device(recipe.device)
    model, tokenizer, summary = fit(labels, recipe, recipe.tokenizer, recipe.init, device,
                                    on_step)
    metrics: ScorerMetrics = summary["metrics"]
    save_checkpoint(model, tokenizer, recipe.output, recipe, metrics)
    run.log_metrics({**metrics.as_flat(), "train_files": summary["train_files"],
                     "final_loss": summary["losses"][-1]})
    log_curves(run, summary["curves"])
    model_uri = run.log_model(recipe.output, name="quality-scorer",
                              register_as=recipe.register_as) if run.enabled else None
    return ScorerResult(recipe.output, metrics, summary["train_files"], summary["losses"],
                        run.run_id, model_uri)
