"""The markdown codekiln writes into MLflow descriptions: a run's links both ways, a model
version's chain back to the raw inputs and its latest evaluations.

Pure rendering from :mod:`codekiln_core.lineage.chain` nodes (no store access here); the
text sits between two HTML comments, so a rewrite replaces only it and keeps whatever a
person wrote around it in the UI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from codekiln_core.lineage.chain import DatasetLink, RunNode
from codekiln_core.lineage.links import (
    artifact_page,
    markdown_link,
    run_page,
    version_page,
)

BEGIN, END = "<!-- codekiln:lineage -->", "<!-- /codekiln:lineage -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
#: Inputs listed per run in a version's chain (the run's own page lists them all).
_INPUTS_PER_HOP = 6
#: What MLflow keeps: a model version's description is a 5000-character column (PostgreSQL
#: and MySQL refuse more), a run's description is a tag of at most 8000.
VERSION_NOTE_LIMIT, RUN_NOTE_LIMIT = 5000, 8000
BREVITY_LEVELS = 3
#: Runs listed under "Used by" (a dataset every evaluation reads has hundreds of readers).
_DOWNSTREAM_SHOWN = 40


@dataclass(frozen=True)
class Evaluation:
    """One finished evaluation of a model: what a version's table row shows."""

    benchmark: str
    scores: dict[str, float]  # pass_at_1 -> 0.25
    n: str
    end_time: int | None
    run: RunNode


@dataclass(frozen=True)
class StartingModel:
    """Where a model's training began: an outside model, or a run that trained from scratch."""

    label: str
    run: RunNode | None = None  # the from-scratch run


@dataclass
class VersionStory:
    """Everything a model version's description says."""

    name: str
    version: str
    source: RunNode
    chain: list[RunNode]
    start: StartingModel | None
    evaluations: list[Evaluation] = field(default_factory=list)
    recipe: str | None = None


def merge_note(existing: str | None, block: str) -> str:
    """``existing`` with codekiln's block replaced (or put first); the rest is kept."""
    wrapped = f"{BEGIN}\n{block.strip()}\n{END}"
    if existing and _BLOCK.search(existing):
        return _BLOCK.sub(lambda _: wrapped, existing, count=1)
    return wrapped + (f"\n\n{existing.strip()}" if existing and existing.strip() else "")


def run_link(run: RunNode) -> str:
    return markdown_link(run.command, run_page(run.experiment_id, run.run_id))


def version_link(name_version: str) -> str:
    name, version = name_version.rsplit("/", 1)
    return markdown_link(f"{name} v{version}", version_page(name, version))


def run_note(run: RunNode, upstream: list[RunNode], downstream: list[RunNode],
             picture: str | None = None) -> str:
    """A run's description: the runs its inputs came from, the runs that read its
    outputs, its registered versions and its lineage picture."""
    by_id = {r.run_id: r for r in upstream}
    lines = ["**Made from** (upstream runs and raw inputs):"]
    for link in run.inputs:
        maker = by_id.get(link.upstream_run_id or "")
        origin = run_link(maker) if maker else ("raw input" if not link.upstream_run_id
                                                else f"run `{link.upstream_run_id[:12]}`")
        lines.append(f"- {origin} — {_dataset(link)}")
    if not run.inputs:
        lines.append("- nothing (no inputs recorded)")
    if downstream:
        lines.append("\n**Used by** (runs that read its outputs):")
        lines.extend(f"- {run_link(r)} · {r.status.lower()}"
                     for r in downstream[-_DOWNSTREAM_SHOWN:])
        if len(downstream) > _DOWNSTREAM_SHOWN:
            lines.append(f"- and {len(downstream) - _DOWNSTREAM_SHOWN} earlier runs")
    if run.registered:
        lines.append("\n**Registered:** " + ", ".join(version_link(v) for v in run.registered))
    if picture:
        lines.append(_picture_line(run.experiment_id, run.run_id, picture))
    return "\n".join(lines)


def pipeline_note(parent: RunNode, name: str, steps: list[tuple[str, RunNode | None, str]],
                  picture: str | None) -> str:
    """A pipeline's parent run: each step's run as a link, the versions registered."""
    lines = [f"**Pipeline {name}**, {len(steps)} steps:"]
    for index, (step, run, status) in enumerate(steps, 1):
        lines.append(f"{index}. `{step}` — " + (f"{run_link(run)} · {status}" if run
                                                  else status))
    registered = [v for _, run, _ in steps if run for v in run.registered]
    if registered:
        lines.append("\n**Registered:** " + ", ".join(version_link(v) for v in registered))
    if picture:
        lines.append(_picture_line(parent.experiment_id, parent.run_id, picture))
    return "\n".join(lines)


def _picture_line(experiment_id: str, run_id: str, picture: str) -> str:
    """Links to the picture (``lineage/lineage.png``) and its interactive HTML page."""
    png, html = (markdown_link(path, artifact_page(experiment_id, run_id, path))
                 for path in (picture, picture.removesuffix(".png") + ".html"))
    return f"\n**Lineage picture:** {png} · interactive: {html}"


def version_note(story: VersionStory, brevity: int = 0) -> str:
    """A version's description: who made it from what, the latest score per benchmark, the
    chain back to the raw inputs (one line per run) and every dataset with its digest.

    ``brevity`` 1 drops the datasets' makers' links and sources, 2 also what each run read:
    a registry keeps at most :data:`VERSION_NOTE_LIMIT` characters of description.
    """
    lines = [f"**{story.name} v{story.version}**, made by {run_link(story.source)}"
             + (f" from the recipe `{story.recipe}`" if story.recipe else "") + "."]
    if story.start is not None:
        made = f", trained from scratch by {run_link(story.start.run)}" if story.start.run \
            else ""
        lines.append(f"\n**Starting model:** {story.start.label}{made}")
    lines.extend(["", "#### Latest evaluations", *_evaluation_table(story.evaluations)])
    lines.extend(["", "#### Chain back to the raw inputs"])
    by_id = {r.run_id: r for r in story.chain}
    lines.extend(f"{i}. {_hop(run, by_id, reads=brevity < 2)}"
                 for i, run in enumerate(story.chain, 1))
    lines.extend(["", "#### Datasets", *_dataset_table(story.chain, by_id, full=brevity < 1)])
    return "\n".join(lines)


def fit_note(existing: str | None, render: Callable[[int], str], limit: int,
             overflow: str) -> str:
    """``existing`` with the first of ``render(0)``, ``render(1)``, ... that fits in
    ``limit`` characters; else the briefest, cut at a line, ending with ``overflow``."""
    for brevity in range(BREVITY_LEVELS):
        merged = merge_note(existing, render(brevity))
        if len(merged) <= limit:
            return merged
    block = render(BREVITY_LEVELS - 1).splitlines()
    while block and len(merge_note(existing, "\n".join([*block, overflow]))) > limit:
        block.pop()
    return merge_note(existing, "\n".join([*block, overflow]))


def latest_per_benchmark(evaluations: list[Evaluation]) -> list[Evaluation]:
    """The newest evaluation of each benchmark, by benchmark name."""
    latest: dict[str, Evaluation] = {}
    for evaluation in sorted(evaluations, key=lambda e: e.end_time or 0):
        latest[evaluation.benchmark] = evaluation
    return [latest[name] for name in sorted(latest)]


def score_tags(evaluations: list[Evaluation]) -> dict[str, str]:
    """``humaneval.pass_at_1: 0.2500`` for the latest evaluation of each benchmark."""
    return {f"{e.benchmark}.{key}": f"{value:.4f}"
            for e in latest_per_benchmark(evaluations) for key, value in sorted(e.scores.items())}


def _evaluation_table(evaluations: list[Evaluation]) -> list[str]:
    latest = latest_per_benchmark(evaluations)
    if not latest:
        return ["No evaluation yet: `codekiln eval run` of this version adds it here."]
    keys = sorted({k for e in latest for k in e.scores}, key=_k_of)
    header = ["benchmark", *(k.replace("_at_", "@") for k in keys), "n", "date", "run"]
    return _table(header, [[e.benchmark, *(f"{e.scores[k]:.4f}" if k in e.scores else "–"
                                           for k in keys), e.n, _date(e.end_time),
                            run_link(e.run)] for e in latest])


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table; an em space ends each cell but the last, because the UI draws
    tables without cell padding."""
    def line(cells: list[str]) -> str:
        return "| " + " | ".join([*(f"{c}&emsp;" for c in cells[:-1]), cells[-1]]) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def _hop(run: RunNode, by_id: dict[str, RunNode], *, reads: bool) -> str:
    head = f"{run_link(run)} run `{run.run_id[:8]}`"
    if not reads:
        return head
    names = []
    for link in run.inputs[:_INPUTS_PER_HOP]:
        maker = by_id.get(link.upstream_run_id or "")
        origin = f" ← {maker.command}" if maker else (" (raw)" if not link.upstream_run_id
                                                     else "")
        names.append(f"`{link.name}`{origin}")
    more = len(run.inputs) - _INPUTS_PER_HOP
    text = ", ".join(names) + (f" and {more} more" if more > 0 else "")
    return head + (f" — reads {text}" if text else "")


def _dataset_table(chain: list[RunNode], by_id: dict[str, RunNode], *, full: bool
                   ) -> list[str]:
    rows: list[list[str]] = []
    seen: set[tuple[str, str]] = set()
    for run in chain:
        for link in run.inputs:
            if link.model or (link.source, link.digest) in seen:
                continue
            seen.add((link.source, link.digest))
            maker = by_id.get(link.upstream_run_id or "")
            made = (run_link(maker) if full else maker.command) if maker else \
                ("raw input" if not link.upstream_run_id else f"run `{link.upstream_run_id[:12]}`")
            rows.append([f"`{link.name}`", f"`{link.digest}`", made,
                         *([f"`{link.source}`"] if full else [])])
    return _table(["dataset", "digest", "made by", *(["source"] if full else [])], rows)


def _dataset(link: DatasetLink) -> str:
    kind = "model " if link.model else ""
    return f"{kind}`{link.name}` (`{link.digest[:16]}`)"


def _k_of(key: str) -> int:
    tail = key.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _date(end_time: int | None) -> str:
    if end_time is None:
        return "running"
    return datetime.fromtimestamp(end_time / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
