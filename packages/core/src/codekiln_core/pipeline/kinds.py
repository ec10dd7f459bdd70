"""What each step kind runs: a ``codekiln`` sub-command and how its recipe and output are passed.

This table is data, not runner code: a new command becomes a pipeline step by adding one
entry here (or, with no edit at all, by a step of kind ``command`` naming the sub-command).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How a step's recipe file reaches the command: as the first positional argument, through
#: ``--recipe``, or not at all (the command takes options only).
RecipeStyle = Literal["positional", "option", "none"]


@dataclass(frozen=True)
class StepKind:
    """One kind of pipeline step."""

    argv: tuple[str, ...]  # the sub-command after ``codekiln``
    recipe: RecipeStyle = "none"
    output_flag: str | None = "--output"  # None: the command has no output directory option
    resumes: bool = True  # rerunning the same command continues an interrupted run
    key_metrics: tuple[str, ...] = ()  # shown in the pipeline's summary table
    planned: bool = False  # its command lands in a later release; the runner checks it exists


KINDS: dict[str, StepKind] = {
    "curate": StepKind(("curate", "run"), recipe="positional",
                       key_metrics=("docs_in", "docs_kept", "bytes_kept")),
    "label": StepKind(("curate", "label"), recipe="option",
                      key_metrics=("labeled", "unparsable", "mean_score")),
    "scorer": StepKind(("train", "scorer"), resumes=False,
                       key_metrics=("eval_mae", "eval_spearman", "final_loss")),
    "score": StepKind(("curate", "score"), resumes=False,
                      key_metrics=("kept", "dropped", "mean_score")),
    "tokenizer": StepKind(("curate", "tokenizer", "train"), resumes=False,
                          key_metrics=("vocab_size",)),
    "shards": StepKind(("curate", "shards"), key_metrics=("tokens", "sequences", "fim_documents")),
    "pretrain": StepKind(("train", "pretrain"), recipe="positional", planned=True,
                         key_metrics=("train_loss", "val_loss", "tokens_per_s")),
    "export": StepKind(("train", "export"), planned=True),
    "sft": StepKind(("posttrain", "sft"), recipe="positional", planned=True,
                    key_metrics=("train_loss", "val_loss")),
    "dpo": StepKind(("posttrain", "dpo"), recipe="positional", planned=True,
                    key_metrics=("train_loss", "reward_accuracy")),
    "grpo": StepKind(("posttrain", "grpo"), recipe="positional", planned=True,
                     key_metrics=("reward_mean", "pass_rate")),
    "eval": StepKind(("eval", "run"), key_metrics=("pass_at_1", "pass_at_10")),
    "serve-check": StepKind(("serve", "check"), output_flag=None, planned=True,
                            key_metrics=("latency_s",)),
    # Any sub-command: the step's ``command`` field names it, e.g. [curate, samples, repos].
    "command": StepKind((), recipe="none", output_flag=None),
}


def kind_names() -> list[str]:
    return sorted(KINDS)
