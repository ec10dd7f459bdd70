"""``codekiln train scorer LABELS --output DIR``: fit the regression-head quality scorer on
teacher labels; report held-out MAE and Spearman."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codekiln_core.cli.contract import REPLACE_OUTPUT, Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_core.errors import ConfigError
from codekiln_train.scorer.presets import ScorerRecipe, load_scorer_recipe

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef
    from codekiln_train.scorer.metrics import ScorerMetrics


def scorer_inputs(recipe: ScorerRecipe) -> list[InputRef]:
    """The labels, and the ``init`` checkpoint when one is given (both must exist)."""
    from codekiln_core.lineage import InputRef

    if not recipe.labels.exists():
        raise ConfigError(f"labels {recipe.labels}: no such file or directory; pass the "
                          "labeling step's output (labels.parquet) or a Parquet/JSONL file")
    if recipe.init is not None and not recipe.init.is_dir():
        raise ConfigError(f"init {recipe.init}: no such directory; pass a Hugging Face "
                          "checkpoint")
    inputs = [InputRef.from_path(recipe.labels, name="labels")]
    if recipe.init is not None:
        inputs.append(InputRef.from_path(recipe.init, name="init-checkpoint"))
    return inputs


def train_quality_scorer(invocation: Invocation[ScorerRecipe]) -> Outcome:
    """Fit on the train split, evaluate on the held-out split, save the checkpoint."""
    from codekiln_train.scorer.training import train_scorer

    result = train_scorer(invocation.recipe, invocation.run)
    lines = [f"checkpoint: {result.out_dir}"]
    if result.model_uri:
        lines.append(f"model: {result.model_uri}")
    return Outcome(metrics={**result.metrics.as_flat(), "final_loss": result.summary.final_loss},
                   table=metrics_table(result.metrics, result.train_files), lines=lines)


def metrics_table(metrics: ScorerMetrics, train_files: int) -> Any:
    """Held-out MAE (all, per class, class-averaged) and Spearman as a rich table."""
    from rich.table import Table

    table = Table(title=f"held-out: {metrics.count} files (trained on {train_files})")
    table.add_column("ground-truth score", justify="right")
    table.add_column("files", justify="right")
    table.add_column("MAE", justify="right")
    for cls, (count, mae) in metrics.per_class.items():
        table.add_row(str(cls), str(count), f"{mae:.3f}")
    table.add_section()
    table.add_row("all files", str(metrics.count), f"{metrics.mae:.3f}")
    table.add_row("mean over classes", str(len(metrics.per_class)), f"{metrics.class_mae:.3f}")
    table.add_row("Spearman", "", f"{metrics.spearman:.3f}")
    return table


COMMAND = Command(
    name="train.scorer", recipe=ScorerRecipe, work=train_quality_scorer,
    help="Train the regression-head quality scorer on LABELS; report held-out MAE and "
         "Spearman.",
    inputs="labels", registers=True, resumable=False, step="scorer",
    key_metrics=("eval_mae", "eval_spearman", "final_loss"),
    flags=("preset", "epochs", "tokenizer", "init", "device", "threads", "seed",
           "learning_rate", "batch_size", "max_tokens", "peak_flops"),
    aliases=(Alias(("--force",), REPLACE_OUTPUT, "flag",
                   hint="remove the output yourself or choose a new --output"),),
    load=load_scorer_recipe, lineage_inputs=scorer_inputs)
