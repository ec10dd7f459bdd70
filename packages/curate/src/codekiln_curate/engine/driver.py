"""Drive a curation run: plan, passes over shards, global stages, stats, report, lineage."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_curate.engine import layout
from codekiln_curate.engine.cluster import LostNode
from codekiln_curate.engine.pass_setup import registry as make_registry
from codekiln_curate.engine.plan import Pass, Plan, build_plan, instantiate
from codekiln_curate.engine.shard_task import PassTask
from codekiln_curate.engine.stats import aggregate
from codekiln_curate.engine.storage import (
    read_json,
    remove_stale_tmp,
    write_json,
    write_parquet,
)
from codekiln_curate.recipe import CurateRecipe, resolve_input_path

Progress = Callable[[str, int], Callable[[], None]]  # (label, total) -> advance()


@dataclass
class RunResult:
    out_dir: Path
    summary: dict[str, Any]
    run_id: str | None = None
    seconds: float = 0.0
    reports: list[Path] = field(default_factory=list)


def prepare_output(out: Path, plan: Plan) -> None:
    """Refuse to mix runs: an existing output must come from the same recipe and inputs."""
    check_output_dir(out)
    plan_path = layout.plan_file(out)
    if plan_path.is_file():
        previous = read_json(plan_path)
        if previous.get("fingerprint") != plan.fingerprint:
            raise ConfigError(
                f"output {out} holds a run of a different recipe or input; pass another "
                "--output, or delete the directory to start over")
    elif out.exists() and any(out.iterdir()):
        raise ConfigError(f"output {out} exists and is not a curate output; pass an empty "
                          "or new --output directory")
    remove_stale_tmp(out)
    write_json({"fingerprint": plan.fingerprint, "shards": [s.to_json() for s in plan.shards]},
               plan_path)


def check_output_dir(out: Path) -> None:
    """A one-line error when ``out``, or the nearest existing folder above it, is a file."""
    for candidate in (out, *out.parents):
        if candidate.exists():
            if not candidate.is_dir():
                what = "is a file" if candidate == out else f"is inside {candidate}, a file"
                raise ConfigError(f"output {out} {what}, not a directory; pass a new or "
                                  "empty directory with --output (or `output:` in the recipe)")
            return


def run_curation(recipe: CurateRecipe, *, lineage: bool = True,
                 progress: Progress | None = None,
                 recipe_file: Path | None = None) -> RunResult:
    """Run ``recipe`` to completion (resuming finished shards) and write the report."""
    started = time.perf_counter()
    registry = make_registry()
    plan = build_plan(recipe, registry)  # every recipe error surfaces here, before work
    out = Path(recipe.output).absolute()
    prepare_output(out, plan)
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command
    from codekiln_curate.recipe import resolved_recipe

    inputs = [InputRef.from_path(resolve_input_path(spec.path), name=spec.name)
              for spec in recipe.inputs] if lineage else []
    with lineage_command("curate.run", config=resolved_recipe(recipe), inputs=inputs,
                         recipe_file=recipe_file, enabled=lineage) as run:
        active = [spec for spec in recipe.stages if spec.enabled]
        for spec in active:
            registry.stage_started(spec.name, run.run_id, spec.model_dump(mode="json"))
        lost = _execute(plan, out, progress, registry)
        summary = aggregate(out, plan)
        summary.update(record_lost_nodes(out, lost))
        for spec in active:
            registry.stage_finished(spec.name, run.run_id,
                                    summary["stages"].get(spec.name, {}))
        from codekiln_curate.report.build import write_report

        reports = write_report(out, plan, summary)
        if run.enabled:
            _log_lineage(run, out, summary, reports)
    return RunResult(out, summary, run.run_id, time.perf_counter() - started, reports)


def _execute(plan: Plan, out: Path, progress: Progress | None,
             registry: Any) -> list[LostNode]:
    """Every pass over the unfinished shards; returns the cluster nodes lost meanwhile."""
    from codekiln_curate.engine.executors import make_executor

    recipe_data = plan.recipe.model_dump(mode="json")
    executor = make_executor(plan.recipe.executor, plan.recipe.workers, plan.recipe.retries)
    try:
        for current in plan.passes:
            todo = [s for s in plan.shards
                    if not layout.marker(out, current.index, s.shard_id).is_file()]
            label = _pass_label(current, len(plan.passes))
            advance = progress(label, len(plan.shards)) if progress else (lambda: None)
            for _ in range(len(plan.shards) - len(todo)):
                advance()
            tasks = [PassTask(recipe_data, plan.fingerprint, str(out), current.index,
                              s.to_json()) for s in todo]
            for _result in executor.map(tasks):
                advance()
            if current.global_after is not None:
                run_global(plan, current, out, registry)
        remove_stale_tmp(out)  # left by tasks killed with their node; nothing runs now
        return executor.lost_nodes
    finally:
        executor.close()


def record_lost_nodes(out: Path, lost: list[LostNode]) -> dict[str, Any]:
    """``{"lost_nodes": [...]}`` over every attempt of the run (kept in _state, so a resumed
    run still reports a node lost before its interruption); ``{}`` when none was lost."""
    path = layout.state_dir(out) / "lost-nodes.json"
    earlier: list[dict[str, Any]] = read_json(path) if path.is_file() else []
    every = earlier + [node.to_json() for node in lost]
    if lost:
        write_json(every, path)
    return {"lost_nodes": every} if every else {}


def _pass_label(current: Pass, total: int) -> str:
    names = ([current.apply_global.name] if current.apply_global else []) + [
        s.name for s in current.stages]
    if current.global_after is not None:
        names.append(f"{current.global_after.name} (keys)")
    return f"pass {current.index + 1}/{total}: " + (", ".join(names) or "read")


def run_global(plan: Plan, current: Pass, out: Path, registry: Any) -> None:
    """Decide duplicates over all shards' keys, then split decisions per shard."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert current.global_after is not None
    if layout.global_marker(out, current.index).is_file():
        return
    spec = current.global_after
    stage = instantiate(registry, spec)
    spill = layout.global_dir(out, current.index) / "spill"
    shutil.rmtree(spill, ignore_errors=True)
    key_files = [layout.keys_file(out, current.index, s.shard_id) for s in plan.shards]
    started = time.perf_counter()
    decisions = stage.decide(key_files, spill) if key_files else {}
    dropped = 0
    for shard, key_file in zip(plan.shards, key_files, strict=True):
        ids = pq.read_table(key_file, columns=["id"])["id"].to_pylist()
        rows = [decisions.get(i, (None, None)) for i in ids]
        dropped += sum(1 for _, reason in rows if reason)
        table = pa.table({"id": pa.array(ids, pa.string()),
                          "cluster": pa.array([c for c, _ in rows], pa.string()),
                          "reason": pa.array([r for _, r in rows], pa.string())})
        write_parquet(table, layout.decisions_file(out, current.index, shard.shard_id))
    shutil.rmtree(spill, ignore_errors=True)
    write_json({"stage": spec.name, "documents": len(decisions), "dropped": dropped,
                "seconds": round(time.perf_counter() - started, 6)},
               layout.global_marker(out, current.index))


def _log_lineage(run: Any, out: Path, summary: dict[str, Any], reports: list[Path]) -> None:
    totals = summary["totals"]
    run.log_metrics({"docs_in": totals["in_docs"], "docs_kept": totals["kept_docs"],
                     "bytes_in": totals["in_bytes"], "bytes_kept": totals["kept_bytes"]})
    for path in reports:
        run.log_artifact(path, artifact_path="report")
    run.log_output(out, name="curated")
