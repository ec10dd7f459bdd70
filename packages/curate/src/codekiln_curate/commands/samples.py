"""``codekiln curate samples commits|repos``: commit and repo-level training samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, Overrides

samples_app = typer.Typer(help="Training samples from whole repositories (docs/samples.md).",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(samples_app, name="samples")


def _limits(model: type, overrides: list[str] | None):  # type: ignore[no-untyped-def]
    from codekiln_core.config import apply_override, validate

    data: dict[str, object] = {}
    for override in overrides or []:
        apply_override(data, override)
    return validate(data, model, source="--set")


@samples_app.command("commits")
def commits_command(
    repos: Annotated[list[Path], typer.Argument(help="local git repositories")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    rev: Annotated[str, typer.Option("--rev", help="history to walk, e.g. HEAD or main")] = "HEAD",
    overrides: Overrides = None,
    no_lineage: NoLineage = False,
) -> None:
    """Commit samples: message + README + tree + top-5 BM25 files -> paths + diffs."""
    from codekiln_curate.samples.commits import CommitLimits
    from codekiln_curate.samples.run import write_commit_samples

    limits = _limits(CommitLimits, overrides)
    stats = write_commit_samples(repos, output, limits, rev=rev, lineage=not no_lineage)
    skipped = ", ".join(f"{k} {v}" for k, v in stats["skipped"].items()) or "none"
    typer.echo(f"{stats['written']} samples from {stats['commits']} commits "
               f"(skipped: {skipped}; binary files left out: {stats['binary_files_skipped']})")
    typer.echo(f"samples: {output / 'commits.parquet'}")


@samples_app.command("repos")
def repos_command(
    source: Annotated[Path, typer.Argument(
        help="curated dataset (grouped by repo), a git repository, or a source directory")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    overrides: Overrides = None,
    no_lineage: NoLineage = False,
) -> None:
    """Repo-level samples: each repository as one dependency-ordered string."""
    from codekiln_curate.samples.repo_level import RepoLimits
    from codekiln_curate.samples.run import write_repo_samples

    limits = _limits(RepoLimits, overrides)
    stats = write_repo_samples(source, output, limits, lineage=not no_lineage)
    typer.echo(f"{stats['written']} samples from {stats['repos']} repositories "
               f"({stats['split_repos']} split, {stats['edges']} import edges)")
    typer.echo(f"samples: {output / 'repos.parquet'}")
