"""What each step kind runs: a ``codekiln`` sub-command and how its recipe and output are passed.

This table is data, not runner code: a new command becomes a pipeline step by adding one
entry here (or, with no edit at all, by a step of kind ``command`` naming the sub-command).
Every entry is checked against the installed CLI by
packages/core/tests/pipeline/test_core_pipeline_kinds.py: a renamed flag fails that test,
not a user's pipeline.
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
    # The recipe key naming the output directory, for commands that read it from their
    # recipe (pretrain, sft, dpo, grpo): the step's output goes in as ``--set KEY=PATH``.
    output_key: str | None = None
    resumes: bool = True  # rerunning the same command continues an interrupted run
    # Added to the command line only when the runner resumes an interrupted step (commands
    # that refuse to train over an earlier run's output without it).
    resume_flag: str | None = None
    key_metrics: tuple[str, ...] = ()  # shown in the pipeline's summary table
    planned: bool = False  # its command lands in a later release; the runner checks it exists


KINDS: dict[str, StepKind] = {
    # codekiln curate run [RECIPE] --output DIR: resumes from its own journal.
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
    # codekiln curate heldout [DATASETS] --against CORPUS --output DIR: a validation set
    # (MBPP's non-test solutions by default) checked to share no 10-gram with the corpora.
    "heldout": StepKind(("curate", "heldout"), resumes=False,
                        key_metrics=("documents", "dropped_overlap", "scanned")),
    # codekiln train pretrain RECIPE --set output=DIR [--resume] [--register NAME]: the output
    # is the recipe's `output` key; each stage's HF model lands in DIR/<stage name>/model.
    "pretrain": StepKind(("train", "pretrain"), recipe="positional", output_flag=None,
                         output_key="output", resume_flag="--resume",
                         key_metrics=("train_loss", "val_loss", "tokens_per_s")),
    # codekiln train export models:/NAME/VERSION --output DIR: the registered model (the
    # step's input, e.g. models:/NAME/latest after pretrain --register NAME) as an HF
    # directory. Written atomically: nothing partial to resume.
    "export": StepKind(("train", "export"), resumes=False),
    # codekiln posttrain sft|dpo RECIPE --set output=DIR [--resume]: the model lands in
    # DIR/model and is registered under the recipe's `register_as`.
    "sft": StepKind(("posttrain", "sft"), recipe="positional", output_flag=None,
                    output_key="output", resume_flag="--resume",
                    key_metrics=("train_loss", "val_loss")),
    "dpo": StepKind(("posttrain", "dpo"), recipe="positional", output_flag=None,
                    output_key="output", resume_flag="--resume",
                    key_metrics=("train_loss", "reward_accuracy")),
    # codekiln posttrain grpo RECIPE --set output=DIR: no --resume; a rerun starts over.
    "grpo": StepKind(("posttrain", "grpo"), recipe="positional", output_flag=None,
                     output_key="output", resumes=False,
                     key_metrics=("reward_mean", "pass_rate")),
    # codekiln posttrain data instruct SEEDS --output DIR --endpoint URL --model NAME
    # [--resume]: a teacher endpoint is required (options: {endpoint: …, model: …}).
    "instruct": StepKind(("posttrain", "data", "instruct"), resume_flag="--resume"),
    # codekiln posttrain data pairs PROMPTS --output FILE.jsonl (--model DIR | --endpoint URL
    # --endpoint-model NAME): the step's output must name a .jsonl/.parquet file.
    "pairs": StepKind(("posttrain", "data", "pairs"), resumes=False),
    # codekiln posttrain data import SOURCE --output FILE.jsonl [--format …].
    "import": StepKind(("posttrain", "data", "import"), resumes=False, key_metrics=("rows",)),
    # codekiln posttrain data from-code CURATED --output FILE.jsonl: SFT rows from the
    # documented functions of curated code, no teacher.
    "from-code": StepKind(("posttrain", "data", "from-code"), resumes=False,
                          key_metrics=("rows",)),
    # codekiln eval run --benchmark B --model M --output DIR: options only; reruns resume.
    "eval": StepKind(("eval", "run"), key_metrics=("pass_at_1", "pass_at_10")),
    # codekiln serve-check MODEL: starts `codekiln serve MODEL` on a free port, sends one
    # completion and one chat request, stops it (codekiln_core.pipeline.serve_check).
    "serve-check": StepKind(("serve-check",), output_flag=None, resumes=False,
                            key_metrics=("latency_s",)),
    # codekiln lineage compare ARM@SEED=[PREFIX:]RUN_ID... --metric M --output DIR: arms x
    # seeds side by side (comparison.md/.json/.png); with gather_seeds: true its run list
    # takes every seed's runs.
    "compare": StepKind(("lineage", "compare"), resumes=False),
    # Any sub-command: the step's ``command`` field names it, e.g. [curate, samples, repos].
    "command": StepKind((), recipe="none", output_flag=None),
}


def kind_names() -> list[str]:
    return sorted(KINDS)
