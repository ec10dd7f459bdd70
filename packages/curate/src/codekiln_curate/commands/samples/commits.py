"""``codekiln curate samples commits REPO... --output DIR``: commit samples (message, README,
tree and the top-k BM25 files -> changed paths and diffs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.samples.recipes import CommitsRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def commit_samples(invocation: Invocation[CommitsRecipe]) -> Outcome:
    from codekiln_curate.samples.write_samples import write_commit_samples

    stats = write_commit_samples(invocation.recipe, invocation.run)
    skipped = ", ".join(f"{k} {v}" for k, v in stats["skipped"].items()) or "none"
    return Outcome(
        metrics={k: stats[k] for k in ("commits", "written", "binary_files_skipped")},
        lines=[f"{stats['written']} samples from {stats['commits']} commits (skipped: "
               f"{skipped}; binary files left out: {stats['binary_files_skipped']})",
               f"samples: {invocation.recipe.output / 'commits.parquet'}"])


def repositories(recipe: CommitsRecipe) -> Iterator[InputRef]:
    from codekiln_curate.samples.write_samples import repository_inputs

    return repository_inputs(recipe.repos, directories=True)


COMMAND = Command(
    name="curate.samples.commits", recipe=CommitsRecipe, work=commit_samples,
    help="Commit samples: message + README + tree + top-k BM25 files -> paths + diffs.",
    inputs="repos", resumable=False, key_metrics=("written", "commits"),
    lineage_inputs=repositories)
