"""Turn a validated recipe into a plan: resolved stages, passes, and deterministic shards.

Everything that can be wrong with a recipe (a missing path, an unknown stage, bad options,
a gate on a signal nobody writes) fails here, before any document is read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from codekiln_core.errors import ConfigError
from codekiln_core.registry import Registry
from codekiln_curate.documents import META_COLUMNS, arrow_type
from codekiln_curate.engine.stage_kinds import StageKind, stage_kind
from codekiln_curate.readers.base import Shard, chunk
from codekiln_curate.recipe import CurateRecipe, InputSpec, StageSpec, resolve_input_path

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
    check_stages(stages, registry)
    passes = split_passes(stages, registry)
    shards: list[Shard] = []
    for index, spec in enumerate(recipe.inputs):
        shards.extend(plan_input(index, spec, recipe.limits.shard_files))
    return Plan(recipe, passes, shards, fingerprint(recipe, shards))


def check_stages(stages: list[StageSpec], registry: Registry) -> None:
    """Unknown names, bad options and gates on unknown signals: one-line errors."""
    known = {"size_bytes", "language", "commit_time"}
    seen: set[str] = set()
    for position, spec in enumerate(stages):
        if spec.name in seen:
            raise ConfigError(f"stages[{position}]: stage {spec.name!r} appears twice; "
                              "list each stage once")
        seen.add(spec.name)
        cls = registry.get("stage", spec.name).obj
        try:
            stage_kind(cls)
        except TypeError as exc:
            raise ConfigError(f"stages[{position}] ({spec.name}): {exc}; the plugin that "
                              "registered it must implement a stage protocol") from exc
        instantiate(cls, spec)
        known.update(getattr(cls, "signal_columns", {}) or {})
        for gate in spec.gates:
            if gate.signal not in known:
                raise ConfigError(
                    f"stages[{position}] ({spec.name}): gate on unknown signal "
                    f"{gate.signal!r}; signals available here: {', '.join(sorted(known))}")


def instantiate(cls: Any, spec: StageSpec) -> Any:
    """``cls(**options)``, with a one-line error for wrong option names or values."""
    try:
        return cls(**spec.options)
    except TypeError as exc:
        raise ConfigError(f"stage {spec.name!r}: bad options {spec.options!r}: {exc}; "
                          "see the stage's documentation for its options") from exc
    except ValueError as exc:
        raise ConfigError(f"stage {spec.name!r}: options {spec.options!r}: {exc}") from exc


def split_passes(stages: list[StageSpec], registry: Registry) -> list[Pass]:
    """Cut the stage list at each global (whole-corpus) stage."""
    passes: list[Pass] = [Pass(0, [], None, None)]
    fields: list[tuple[str, pa.DataType]] = []
    for spec in stages:
        cls = registry.get("stage", spec.name).obj
        current = passes[-1]
        if stage_kind(cls) is StageKind.GLOBAL:
            current.global_after = spec
            current.signal_fields = list(fields)
            passes.append(Pass(len(passes), [], spec, None))
            continue
        current.stages.append(spec)
        for name, type_name in (getattr(cls, "signal_columns", {}) or {}).items():
            reserved = {"id", "content", "path", "repo", "language", "source"}
            if name not in reserved and name not in {n for n, _ in fields} | {
                    n for n, _ in META_COLUMNS}:
                fields.append((name, arrow_type(type_name)))
    passes[-1].signal_fields = list(fields)
    return passes


def plan_input(index: int, spec: InputSpec, shard_files: int) -> list[Shard]:
    path = resolve_input_path(spec.path)
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"inputs[{index}].path {spec.path!r}: {path} does not exist; "
                          "fix the path or remove the input")
    source = spec.name or path.name or str(path)
    if spec.kind == "dir":
        return _plan_dir(index, spec, path, source, shard_files)
    if spec.kind == "git":
        return _plan_git(index, spec, path, source, shard_files)
    return _plan_records(index, spec, path, source)


def _plan_dir(index: int, spec: InputSpec, path: Path, source: str, size: int) -> list[Shard]:
    from codekiln_curate.readers.files import list_tree

    if not path.is_dir():
        raise ConfigError(f"inputs[{index}].path {spec.path!r} is not a directory; "
                          "use kind: jsonl or parquet for files")
    entries = list_tree(path, spec.include, spec.exclude)
    options = {"repo_depth": spec.repo_depth}
    return [Shard(f"{index:03d}-{n:05d}", "dir", source, str(path), options, part)
            for n, part in enumerate(chunk(entries, size))]


def _plan_git(index: int, spec: InputSpec, path: Path, source: str, size: int) -> list[Shard]:
    from codekiln_curate.readers.git import last_commits, list_head, repo_root_and_head

    root, head = repo_root_and_head(path)
    repo = spec.name or root.name
    entries = list_head(root, spec.include, spec.exclude)
    commits = last_commits(root, {str(e[0]) for e in entries})
    shards = []
    for n, part in enumerate(chunk(entries, size)):
        options = {"repo": repo, "head": head,
                   "commits": {str(e[0]): commits.get(str(e[0])) for e in part}}
        shards.append(Shard(f"{index:03d}-{n:05d}", "git", spec.name or repo, str(root),
                            options, part))
    return shards


def _plan_records(index: int, spec: InputSpec, path: Path, source: str) -> list[Shard]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if spec.kind == "jsonl":
        from codekiln_curate.readers.records import JSONL_SUFFIXES

        files = [f for f in files if f.name.endswith(JSONL_SUFFIXES)] if path.is_dir() else files
    else:
        files = [f for f in files if f.name.endswith(".parquet")] if path.is_dir() else files
    if not files:
        raise ConfigError(f"inputs[{index}].path {spec.path!r}: no {spec.kind} files found")
    options = {"content_column": spec.content_column, "path_column": spec.path_column,
               "repo_column": spec.repo_column, "language_column": spec.language_column}
    return [Shard(f"{index:03d}-{n:05d}", spec.kind, source if not path.is_dir() else
                  f"{source}", str(f), options) for n, f in enumerate(files)]


def fingerprint(recipe: CurateRecipe, shards: list[Shard]) -> str:
    """Identity of a run's output: recipe content (minus how it runs) and the shard list."""
    body = recipe.model_dump(mode="json", exclude={"workers", "executor", "output"})
    data = {"format": FORMAT_VERSION, "recipe": body, "shards": [s.to_json() for s in shards]}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()
