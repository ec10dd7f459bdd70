"""Sum per-shard stats (from completion markers) into the run summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekiln_curate.documents import READ_STAGE
from codekiln_curate.engine import layout
from codekiln_curate.engine.plan import Plan
from codekiln_curate.engine.storage import read_json

_COUNTS = ("in_docs", "in_bytes", "out_docs", "out_bytes")


def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    for key in _COUNTS:
        into[key] = into.get(key, 0) + int(part.get(key, 0))
    into["seconds"] = into.get("seconds", 0.0) + float(part.get("seconds", 0.0))
    reasons = into.setdefault("reasons", {})
    for reason, (docs, size) in part.get("reasons", {}).items():
        entry = reasons.setdefault(reason, [0, 0])
        entry[0] += docs
        entry[1] += size


def stage_order(plan: Plan) -> list[str]:
    return [READ_STAGE] + [s.name for s in plan.recipe.stages if s.enabled]


def stage_totals(out: Path, plan: Plan, through: int) -> dict[str, dict[str, Any]]:
    """Counts per stage (read first, then recipe order) over the passes up to ``through``:
    a pass's stages and the global stage whose decisions it applied are complete there."""
    stages: dict[str, dict[str, Any]] = {name: {} for name in stage_order(plan)}
    for current in plan.passes[: through + 1]:
        for shard in plan.shards:
            marker = read_json(layout.marker(out, current.index, shard.shard_id))
            for name, part in marker["stages"].items():
                _merge(stages.setdefault(name, {}), part)
        if current.global_after is not None and plan.shards:
            decided = read_json(layout.global_marker(out, current.index))
            _merge(stages.setdefault(current.global_after.name, {}),
                   {"seconds": decided.get("seconds", 0.0)})
    for entry in stages.values():
        entry["reasons"] = dict(sorted(entry.get("reasons", {}).items()))
        for key in _COUNTS:
            entry.setdefault(key, 0)
    return stages


def aggregate(out: Path, plan: Plan) -> dict[str, Any]:
    """``{"stages": {name: counts}, "languages": {...}, "totals": {...}}`` in stage order."""
    final = plan.passes[-1].index
    stages = stage_totals(out, plan, final)
    languages: dict[str, list[int]] = {}
    for shard in plan.shards:
        marker = read_json(layout.marker(out, final, shard.shard_id))
        for lang, counts in marker.get("languages", {}).items():
            row = languages.setdefault(lang, [0, 0, 0, 0])
            for i, value in enumerate(counts):
                row[i] += value
    read = stages[READ_STAGE]
    kept_docs = sum(v[0] for v in languages.values())
    kept_bytes = sum(v[1] for v in languages.values())
    totals = {"in_docs": read["in_docs"], "in_bytes": read["in_bytes"],
              "kept_docs": kept_docs, "kept_bytes": kept_bytes,
              "dropped_docs": read["in_docs"] - kept_docs, "shards": len(plan.shards)}
    return {"name": plan.recipe.name, "stages": stages,
            "languages": dict(sorted(languages.items())), "totals": totals}
