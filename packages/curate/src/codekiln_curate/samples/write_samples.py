"""The two sample commands end to end: build samples, write Parquet + stats, log lineage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_path, atomic_write_json
from codekiln_curate.samples.commits import CommitLimits, CommitStats, commit_samples
from codekiln_curate.samples.repo_level import RepoLimits, RepoStats, repo_samples

COMMIT_COLUMNS = ("id", "repo", "commit", "text_input", "text_target", "text")


def write_commit_samples(repos: Sequence[Path], output: Path, limits: CommitLimits, *,
                         rev: str = "HEAD", lineage: bool = True) -> dict[str, Any]:
    """``output/commits.parquet`` + ``stats.json`` for every repository; returns the stats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for repo in repos:
        if not repo.is_dir():
            raise ConfigError(f"samples commits: {repo} is not a directory; pass local git "
                              "repositories")
    schema = pa.schema([(name, pa.string()) for name in COMMIT_COLUMNS])
    with _lineage("curate.samples.commits", limits, repos, output, lineage) as run:
        output.mkdir(parents=True, exist_ok=True)
        per_repo: dict[str, Any] = {}
        with atomic_path(output / "commits.parquet") as tmp, \
                pq.ParquetWriter(tmp, schema) as writer:
            for repo in repos:
                stats = CommitStats()
                rows = []
                for sample in commit_samples(repo, stats, limits, rev):
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


def write_repo_samples(source: Path, output: Path, limits: RepoLimits, *,
                       lineage: bool = True) -> dict[str, Any]:
    """``output/repos.parquet`` (id, repo, part, parts, paths, text) + ``stats.json``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from codekiln_curate.samples.sources import iter_repos

    schema = pa.schema([("id", pa.string()), ("repo", pa.string()), ("part", pa.int64()),
                        ("parts", pa.int64()), ("paths", pa.list_(pa.string())),
                        ("text", pa.string())])
    repos = iter_repos(source)
    first = next(repos, None)  # input errors before a run or output exists
    with _lineage("curate.samples.repos", limits, [source], output, lineage) as run:
        output.mkdir(parents=True, exist_ok=True)
        stats = RepoStats()
        with atomic_path(output / "repos.parquet") as tmp, \
                pq.ParquetWriter(tmp, schema) as writer:
            for repo, files in ([first] if first else []) + list(repos):
                rows = [asdict(s) for s in repo_samples(repo, files, limits, stats)]
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


def _lineage(command: str, limits: Any, inputs: Sequence[Path], output: Path,
             enabled: bool) -> Any:
    from codekiln_core.lineage.command import lineage_command

    refs = [_input_ref(path) for path in inputs] if enabled else []
    config = {**limits.model_dump(), "inputs": list(inputs), "output": output}
    return lineage_command(command, config=config, inputs=refs, enabled=enabled)


def _input_ref(path: Path) -> Any:
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
