"""Turn a validated recipe into a plan: resolved stages, passes, and deterministic shards.

Everything that can be wrong with a recipe (a missing path, an unknown stage, bad options,
a gate on a signal nobody writes) fails here, before any document is read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from codekiln_core.errors import CodekilnError, ConfigError
from codekiln_core.registry import Registry
from codekiln_core.stages import (
    DOCUMENT_COLUMNS,
    StageKind,
    build_stage,
    signal_columns,
    stage_kind,
)
from codekiln_curate.documents import META_COLUMNS, arrow_type
from codekiln_curate.engine.inputs import plan_input
from codekiln_curate.readers.shard import Shard
from codekiln_curate.recipe import CurateRecipe, StageSpec

FORMAT_VERSION = 1


@dataclass
class Pass:
    """Per-document stages run together over each shard, then optionally one global stage."""

    index: int
    stages: list[StageSpec]
    apply_global: StageSpec | None  # decisions of the previous global stage, applied first
    global_after: StageSpec | None  # global stage whose keys this pass emits
    signal_fields: list[tuple[str, pa.DataType]] = field(default_factory=list)


@dataclass
class Plan:
    recipe: CurateRecipe
    passes: list[Pass]
    shards: list[Shard]
    fingerprint: str

    @property
    def final_signal_fields(self) -> list[tuple[str, pa.DataType]]:
        return self.passes[-1].signal_fields


def build_plan(recipe: CurateRecipe, registry: Registry) -> Plan:
    """Validate stages and inputs, then list shards (cheap metadata only, no content)."""
    stages = [spec for spec in recipe.stages if spec.enabled]
    check_stages(recipe, registry)
    passes = split_passes(stages, registry)
    shards: list[Shard] = []
    for index, spec in enumerate(recipe.inputs):
        shards.extend(plan_input(index, spec, recipe.limits.shard_files, registry,
                                 recipe.source))
    return Plan(recipe, passes, shards, fingerprint(recipe, shards))


def check_stages(recipe: CurateRecipe, registry: Registry) -> None:
    """Unknown names, bad options and gates on unknown signals: one-line errors."""
    known = {"size_bytes", "language", "commit_time"}
    seen: set[str] = set()
    for position, spec in enumerate(recipe.stages):
        if not spec.enabled:
            continue
        where = f"{recipe.source}: stages[{position}]"
        if spec.name in seen:
            raise ConfigError(f"{where}: stage {spec.name!r} appears twice; list each stage once")
        seen.add(spec.name)
        cls = stage_class(registry, spec.name, where)
        try:
            kind = stage_kind(cls)
        except TypeError as exc:
            raise ConfigError(f"{where} ({spec.name}): {exc}; the plugin that registered it "
                              "must implement a stage protocol") from exc
        if kind is StageKind.READER:
            raise ConfigError(f"{where}: {spec.name!r} is a reader, not a stage; name its kind "
                              f"in inputs (kind: {spec.name.removeprefix('read-')})")
        build_stage(cls, spec.options, source=recipe.source,
                    key=f"stages[{position}].options")
        known.update(signal_columns(cls))
        for number, gate in enumerate(spec.gates):
            if gate.signal not in known:
                raise ConfigError(
                    f"{where}.gates[{number}]: gate on unknown signal {gate.signal!r} "
                    f"({spec.name}); signals available here: {', '.join(sorted(known))}")


def stage_class(registry: Registry, name: str, where: str = "") -> Any:
    """The registered class of stage ``name``; errors carry ``where`` (file and key)."""
    try:
        return registry.get("stage", name).obj
    except CodekilnError as exc:
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from exc


def instantiate(registry: Registry, spec: StageSpec) -> Any:
    """The stage of ``spec``, built from its (already validated) recipe options."""
    return build_stage(stage_class(registry, spec.name), spec.options, source="recipe",
                       key=f"stages[{spec.name}].options")


def split_passes(stages: list[StageSpec], registry: Registry) -> list[Pass]:
    """Cut the stage list at each global (whole-corpus) stage."""
    passes: list[Pass] = [Pass(0, [], None, None)]
    fields: list[tuple[str, pa.DataType]] = []
    for spec in stages:
        cls = stage_class(registry, spec.name)
        current = passes[-1]
        if stage_kind(cls) is StageKind.GLOBAL:
            current.global_after = spec
            current.signal_fields = list(fields)
            passes.append(Pass(len(passes), [], spec, None))
            continue
        current.stages.append(spec)
        for name, type_name in signal_columns(cls).items():
            if name not in DOCUMENT_COLUMNS and name not in {n for n, _ in fields} | {
                    n for n, _ in META_COLUMNS}:
                fields.append((name, arrow_type(type_name)))
    passes[-1].signal_fields = list(fields)
    return passes


def fingerprint(recipe: CurateRecipe, shards: list[Shard]) -> str:
    """Identity of a run's output: recipe content (minus how it runs) and the shard list."""
    body = recipe.model_dump(mode="json",
                             exclude={"workers", "executor", "retries", "output", "quiet"})
    data = {"format": FORMAT_VERSION, "recipe": body, "shards": [s.to_json() for s in shards]}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()
