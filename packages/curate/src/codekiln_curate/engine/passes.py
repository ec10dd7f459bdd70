"""Run a plan's passes over the shards, one pass after another, and tell plugins when each
stage starts and finishes.

A pass runs its per-document stages together over every shard, emitting the keys of the
global stage that ends it; that global stage then decides over all shards' keys
(:func:`decide_global`), and the next pass applies its decisions first. So a stage starts
with the first pass that feeds it documents (a global stage: the pass emitting its keys)
and finishes with the last (a global stage: the pass applying its decisions);
``codekiln_stage_started`` / ``codekiln_stage_finished`` fire there, in recipe order.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codekiln_curate.engine import layout
from codekiln_curate.engine.cluster import LostNode
from codekiln_curate.engine.plan import Pass, Plan, instantiate
from codekiln_curate.engine.shard_task import PassTask
from codekiln_curate.engine.stats import stage_totals
from codekiln_curate.engine.storage import remove_stale_tmp, write_json, write_parquet
from codekiln_curate.recipe import StageSpec

Progress = Callable[[str, int], Callable[[], None]]  # (label, total) -> advance()


class StageEvents:
    """The lifecycle hooks of one curation run's stages (``run_id`` None: no lineage)."""

    def __init__(self, hooks: Any, run_id: str | None) -> None:
        self.hooks = hooks
        self.run_id = run_id

    def started(self, specs: list[StageSpec]) -> None:
        for spec in specs:
            self.hooks.stage_started(spec.name, self.run_id, spec.model_dump(mode="json"))

    def finished(self, specs: list[StageSpec], totals: dict[str, dict[str, Any]]) -> None:
        for spec in specs:
            counts = totals.get(spec.name, {})
            kept = int(counts.get("out_docs", 0))
            self.hooks.stage_finished(spec.name, self.run_id, {
                **counts, "kept": kept, "dropped": int(counts.get("in_docs", 0)) - kept})


def starting_stages(current: Pass) -> list[StageSpec]:
    """Stages that read their first document in this pass, in recipe order."""
    return [*current.stages, *([current.global_after] if current.global_after else [])]


def finishing_stages(current: Pass) -> list[StageSpec]:
    """Stages whose last document passes through them in this pass, in recipe order."""
    return [*([current.apply_global] if current.apply_global else []), *current.stages]


def execute_passes(plan: Plan, out: Path, registry: Any, events: StageEvents,
                   progress: Progress | None = None) -> list[LostNode]:
    """Every pass over every shard not yet marked done; each global stage decides after the
    pass that emitted its keys. Returns the cluster nodes lost meanwhile."""
    from codekiln_curate.engine.executors import make_executor

    recipe_data = plan.recipe.model_dump(mode="json")
    executor = make_executor(plan.recipe.executor, plan.recipe.workers, plan.recipe.retries)
    try:
        for current in plan.passes:
            events.started(starting_stages(current))
            todo = [s for s in plan.shards
                    if not layout.marker(out, current.index, s.shard_id).is_file()]
            label = pass_label(current, len(plan.passes))
            advance = progress(label, len(plan.shards)) if progress else (lambda: None)
            for _ in range(len(plan.shards) - len(todo)):
                advance()
            tasks = [PassTask(recipe_data, plan.fingerprint, str(out), current.index,
                              s.to_json()) for s in todo]
            for _result in executor.map(tasks):
                advance()
            if current.global_after is not None:
                decide_global(plan, current, out, registry)
            finishing = finishing_stages(current)
            if finishing:
                events.finished(finishing, stage_totals(out, plan, current.index))
        remove_stale_tmp(out)  # left by tasks killed with their node; nothing runs now
        return executor.lost_nodes
    finally:
        executor.close()


def pass_label(current: Pass, total: int) -> str:
    names = ([current.apply_global.name] if current.apply_global else []) + [
        s.name for s in current.stages]
    if current.global_after is not None:
        names.append(f"{current.global_after.name} (keys)")
    return f"pass {current.index + 1}/{total}: " + (", ".join(names) or "read")


def decide_global(plan: Plan, current: Pass, out: Path, registry: Any) -> None:
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
