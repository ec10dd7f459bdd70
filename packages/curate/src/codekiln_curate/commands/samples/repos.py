"""``codekiln curate samples repos SOURCE --output DIR``: each repository as one
dependency-ordered string."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.samples.recipes import ReposRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def repo_samples(invocation: Invocation[ReposRecipe]) -> Outcome:
    from codekiln_curate.samples.write_samples import write_repo_samples

    stats = write_repo_samples(invocation.recipe, invocation.run)
    return Outcome(
        metrics={k: stats[k] for k in ("repos", "written", "split_repos", "edges")},
        lines=[f"{stats['written']} samples from {stats['repos']} repositories "
               f"({stats['split_repos']} split, {stats['edges']} import edges)",
               f"samples: {invocation.recipe.output / 'repos.parquet'}"])


def source_repository(recipe: ReposRecipe) -> Iterator[InputRef]:
    from codekiln_curate.samples.write_samples import repository_inputs

    return repository_inputs([recipe.source], directories=False)


COMMAND = Command(
    name="curate.samples.repos", recipe=ReposRecipe, work=repo_samples,
    help="Repo-level samples: each repository as one dependency-ordered string.",
    inputs="source", resumable=False, key_metrics=("written", "repos"),
    lineage_inputs=source_repository)
