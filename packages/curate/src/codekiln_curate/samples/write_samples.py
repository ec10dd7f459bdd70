"""Write commit and repo-level samples as Parquet plus stats.json, and record them in the
command's run (a git repository is identified by its HEAD commit)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_path, atomic_write_json
from codekiln_curate.samples.commits import CommitStats, commit_samples
from codekiln_curate.samples.recipes import CommitsRecipe, ReposRecipe
from codekiln_curate.samples.repo_level import RepoStats, repo_samples

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.run import LineageRun

COMMIT_COLUMNS = ("id", "repo", "commit", "text_input", "text_target", "text")


def write_commit_samples(recipe: CommitsRecipe, run: LineageRun) -> dict[str, Any]:
    """``output/commits.parquet`` + ``stats.json`` for every repository; returns the stats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    output = recipe.output
    schema = pa.schema([(name, pa.string()) for name in COMMIT_COLUMNS])
    output.mkdir(parents=True, exist_ok=True)
    per_repo: dict[str, Any] = {}
    with atomic_path(output / "commits.parquet") as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for repo in recipe.repos:
            stats = CommitStats()
            rows = []
            for sample in commit_samples(repo, stats, recipe, recipe.rev):
                rows.append({**asdict(sample), "text": sample.text})
                if len(rows) >= 256:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            per_repo[str(repo)] = {"commits": stats.commits, "written": stats.written,
                                   "skipped": dict(sorted(stats.skipped.items())),
                                   "binary_files_skipped": stats.binary_files_skipped}
    summary = _totals(per_repo)
    _finish(run, output, summary, "commit-samples")
    return summary


def write_repo_samples(recipe: ReposRecipe, run: LineageRun) -> dict[str, Any]:
    """``output/repos.parquet`` (id, repo, part, parts, paths, text) + ``stats.json``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from codekiln_curate.samples.sources import iter_repos

    schema = pa.schema([("id", pa.string()), ("repo", pa.string()), ("part", pa.int64()),
                        ("parts", pa.int64()), ("paths", pa.list_(pa.string())),
                        ("text", pa.string())])
    output = recipe.output
    repos = iter_repos(recipe.source)
    first = next(repos, None)  # input errors before the output exists
    output.mkdir(parents=True, exist_ok=True)
    stats = RepoStats()
    with atomic_path(output / "repos.parquet") as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for repo, files in ([first] if first else []) + list(repos):
            rows = [asdict(s) for s in repo_samples(repo, files, recipe, stats)]
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    summary = asdict(stats)
    _finish(run, output, summary, "repo-samples")
    return summary


def _totals(per_repo: dict[str, Any]) -> dict[str, Any]:
    skipped: dict[str, int] = {}
    for stats in per_repo.values():
        for reason, count in stats["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
    return {"commits": sum(s["commits"] for s in per_repo.values()),
            "written": sum(s["written"] for s in per_repo.values()),
            "skipped": dict(sorted(skipped.items())),
            "binary_files_skipped": sum(s["binary_files_skipped"] for s in per_repo.values()),
            "repos": per_repo}


def repository_inputs(paths: list[Path], *, directories: bool) -> Iterator[InputRef]:
    """The sources as lineage inputs, each checked to exist now (``directories``: to be a
    directory) and identified only when lineage records them."""
    for path in paths:
        if not (path.is_dir() if directories else path.exists()):
            what = "is not a directory" if path.exists() else "does not exist"
            raise ConfigError(f"samples input {path} {what}; pass a local git repository"
                              f"{'' if directories else ', a curated dataset or a directory'}")
    return (repository_input(path) for path in paths)


def repository_input(path: Path) -> InputRef:
    """A git repository is identified by its HEAD commit (digesting a work tree with a
    virtualenv inside would be slow and meaningless); anything else by its content."""
    from codekiln_core.lineage import InputRef

    if (path / ".git").exists():
        from codekiln_curate.gitio import git

        head = git(path, "rev-parse", "HEAD").decode().strip()
        return InputRef(name=path.resolve().name, source=str(path.resolve()), digest=head[:12])
    return InputRef.from_path(path)


def _finish(run: Any, output: Path, summary: dict[str, Any], name: str) -> None:
    atomic_write_json(output / "stats.json", summary)
    run.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, int | float)})
    run.log_artifact(output / "stats.json", artifact_path="report")
    run.log_output(output, name=name)
