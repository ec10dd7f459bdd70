"""Curate a recipe's inputs into an output directory: plan, passes over the shards, stats,
report, and what the run records (metrics, report files, the output dataset)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import check_writable
from codekiln_curate.engine import layout
from codekiln_curate.engine.cluster import LostNode
from codekiln_curate.engine.pass_setup import registry as make_registry
from codekiln_curate.engine.passes import Progress, StageEvents, execute_passes
from codekiln_curate.engine.plan import Plan, build_plan
from codekiln_curate.engine.stats import aggregate
from codekiln_curate.engine.storage import (
    foreign_entries,
    read_json,
    remove_stale_tmp,
    write_json,
)
from codekiln_curate.recipe import CurateRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun


@dataclass
class CurationResult:
    out_dir: Path
    summary: dict[str, Any]
    seconds: float = 0.0
    reports: list[Path] = field(default_factory=list)


def prepare_output(out: Path, plan: Plan) -> None:
    """Refuse to mix runs: an existing output must come from the same recipe and inputs."""
    check_writable(out)
    remove_stale_tmp(out)
    plan_path = layout.plan_file(out)
    if plan_path.is_file():
        previous = read_json(plan_path)
        if previous.get("fingerprint") != plan.fingerprint:
            raise ConfigError(
                f"output {out} holds a run of a different recipe or input; pass another "
                "--output, or delete the directory to start over")
    elif foreign_entries(out, layout.STATE):  # a run killed before its plan: none
        raise ConfigError(f"output {out} exists and is not a curate output; pass an empty "
                          "or new --output directory")
    write_json({"fingerprint": plan.fingerprint, "shards": [s.to_json() for s in plan.shards]},
               plan_path)


def run_curation(recipe: CurateRecipe, run: LineageRun, *, progress: Progress | None = None,
                 hooks: Any = None) -> CurationResult:
    """Run ``recipe`` to completion into its output (continuing the shards a killed run
    finished there), write the report and record it in ``run``.

    ``hooks``: the registry whose stage lifecycle hooks fire (default: the process's, the
    one that announces the command run itself).
    """
    started = time.perf_counter()
    registry = make_registry()
    plan = build_plan(recipe, registry)  # every recipe error surfaces here, before work
    out = Path(recipe.output).absolute()
    prepare_output(out, plan)
    if hooks is None:
        from codekiln_core.lineage.command import lifecycle_hooks

        hooks = lifecycle_hooks()
    lost = execute_passes(plan, out, registry, StageEvents(hooks, run.run_id), progress)
    summary = aggregate(out, plan)
    summary.update(record_lost_nodes(out, lost))
    from codekiln_curate.report.build import write_report

    reports = write_report(out, plan, summary)
    record_curation(run, out, summary, reports)
    return CurationResult(out, summary, time.perf_counter() - started, reports)


def record_lost_nodes(out: Path, lost: list[LostNode]) -> dict[str, Any]:
    """``{"lost_nodes": [...]}`` over every attempt of the run (kept in _state, so a resumed
    run still reports a node lost before its interruption); ``{}`` when none was lost."""
    path = layout.state_dir(out) / "lost-nodes.json"
    earlier: list[dict[str, Any]] = read_json(path) if path.is_file() else []
    every = earlier + [node.to_json() for node in lost]
    if lost:
        write_json(every, path)
    return {"lost_nodes": every} if every else {}


def record_curation(run: LineageRun, out: Path, summary: dict[str, Any],
                    reports: list[Path]) -> None:
    """Totals as metrics, the report files as artifacts, the output as dataset ``curated``
    (not digested at all without lineage: a corpus can be large)."""
    if not run.enabled:
        return
    run.log_metrics(curation_metrics(summary))
    for path in reports:
        run.log_artifact(path, artifact_path="report")
    run.log_output(out, name="curated")


def curation_metrics(summary: dict[str, Any]) -> dict[str, int]:
    totals = summary["totals"]
    return {"docs_in": totals["in_docs"], "docs_kept": totals["kept_docs"],
            "bytes_in": totals["in_bytes"], "bytes_kept": totals["kept_bytes"]}
