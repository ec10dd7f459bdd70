"""``codekiln train pretrain RECIPE --output DIR``: the staged pretraining recipe on DeepSpeed
(``--resume`` continues an interrupted run, ``--register NAME`` registers the final model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_train.engine.launcher import launch_ranks
from codekiln_train.recipe import PretrainRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef
    from codekiln_train.pretrain import PretrainResult


def pretrain(invocation: Invocation[PretrainRecipe]) -> Outcome:
    """Train every stage; the final model is logged (and registered) by rank 0."""
    from codekiln_train.pretrain import run_pretrain

    result = run_pretrain(invocation.recipe, run=invocation.run, resume=invocation.resume,
                          source=str(invocation.recipe_file or "recipe"))
    lines = [f"model: {result.model_dir}"]
    if result.model_uri:
        lines.append(f"registered: {result.model_uri}")
    final = next((s for _, s in reversed(result.stages) if s is not None), None)
    metrics = {} if final is None else {"train_loss": final.final_loss,
                                        "val_loss": final.final_val_loss,
                                        "tokens_per_s": final.tokens_per_s}
    return Outcome(metrics=metrics, table=summary_table(result), lines=lines)


def pretrain_inputs(recipe: PretrainRecipe) -> list[InputRef]:
    """Every stage's shard sets (checked and planned first: one-line errors, no torch)."""
    from codekiln_train.pretrain import plan_stages, shard_inputs, world_size_from_env

    return shard_inputs(plan_stages(recipe, world_size=world_size_from_env()))


def summary_table(result: PretrainResult) -> Any:
    """One row per stage: steps, tokens, losses, throughput, MFU, memory, time."""
    from rich.table import Table

    table = Table(title=f"pretraining: {result.output}")
    for name in ("stage", "steps", "tokens", "loss", "val loss", "tokens/s", "step s",
                 "MFU", "peak mem GiB", "wall s"):
        table.add_column(name, justify="left" if name == "stage" else "right")
    for plan, summary in result.stages:
        if summary is None:
            table.add_row(f"{plan.index + 1}. {plan.name}", str(plan.steps), "-",
                          "done before resume", *[""] * 6)
            continue
        val = f"{summary.final_val_loss:.4f}" if summary.final_val_loss is not None else "-"
        table.add_row(f"{plan.index + 1}. {plan.name}", str(summary.steps), f"{summary.tokens:,}",
                      f"{summary.final_loss:.4f}", val, f"{summary.tokens_per_s:,.0f}",
                      f"{summary.step_time_s:.3f}", f"{summary.mfu:.1%}",
                      f"{summary.peak_memory_gb:.2f}", f"{summary.wall_s:.1f}")
    return table


COMMAND = Command(
    name="train.pretrain", recipe=PretrainRecipe, work=pretrain,
    help="Pretrain a Llama-architecture model on codekiln shard sets, stage after stage.",
    registers=True, step="pretrain", key_metrics=("train_loss", "val_loss", "tokens_per_s"),
    flags=("launcher", "hostfile", "num_gpus", "master_port", "device", "threads",
           "peak_flops", "seed"),
    lineage_inputs=pretrain_inputs, launch=launch_ranks)
