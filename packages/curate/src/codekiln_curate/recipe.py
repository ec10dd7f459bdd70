"""The curation recipe: what to read, which stages to run in which order, where to write.

Validated by pydantic before any heavy import or any file is read; every field carries a
description, which doubles as CLI help and as the hint in one-line errors.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from codekiln_core.config import RecipeModel, load_recipe, validate
from codekiln_core.errors import ConfigError


class InputSpec(RecipeModel):
    """One source of documents."""

    kind: str = Field(
        ..., description="reader: dir (file tree), git (repo at HEAD), jsonl (.jsonl/.gz/.zst), "
        "parquet, or a kind a plugin's reader (registered as read-<kind>) handles"
    )
    path: str = Field(
        ..., description="file or directory; ${stdlib} is the running Python's standard "
        "library, ${cwd} the working directory; relative paths resolve against the cwd"
    )
    name: str | None = Field(
        None, description="source name written to the `source` column (default: the path's "
        "last component)"
    )
    include: list[str] = Field(
        default_factory=list, description="glob patterns (relative paths, e.g. '**/*.py'); "
        "empty means every file"
    )
    exclude: list[str] = Field(
        default_factory=list, description="glob patterns of files to leave out"
    )
    repo_depth: int = Field(
        0, ge=0, le=8, description="dir reader: 0 = the tree is one repo named after the "
        "input; N = the first N path components name the repo"
    )
    content_column: str = Field("content", description="jsonl/parquet: column with the text")
    path_column: str | None = Field("path", description="jsonl/parquet: column with the path")
    repo_column: str | None = Field("repo", description="jsonl/parquet: column with the repo")
    language_column: str | None = Field(
        "language", description="jsonl/parquet: column with a language label, if any"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="options for a plugin's reader (first-party readers "
        "take none)"
    )


class GateSpec(RecipeModel):
    """A declarative threshold on a signal: a document failing it is dropped."""

    signal: str = Field(..., description="signal column written by this or an earlier stage")
    min: float | None = Field(None, description="drop when the signal is below this value")
    max: float | None = Field(None, description="drop when the signal is above this value")
    equals: Any = Field(None, description="drop when the signal differs from this value")

    @model_validator(mode="after")
    def _one_condition(self) -> GateSpec:
        if self.min is None and self.max is None and self.equals is None:
            raise ValueError(f"gate on {self.signal!r} needs min, max or equals")
        return self


class StageSpec(RecipeModel):
    """One stage, by registered name, with its options and gates."""

    name: str = Field(..., description="registered stage name (see `codekiln plugins list`)")
    options: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments for the stage's constructor"
    )
    gates: list[GateSpec] = Field(
        default_factory=list, description="thresholds on signals, applied after this stage"
    )
    enabled: bool = Field(True, description="false skips the stage without deleting it")


class LimitsSpec(RecipeModel):
    """Caps that keep bad input from stalling a run."""

    max_file_bytes: int = Field(
        1_000_000, gt=0, description="larger files are skipped (reason too_large), unread"
    )
    shard_files: int = Field(
        500, gt=0, description="files per shard for dir/git inputs (unit of resume and "
        "parallelism); jsonl/parquet inputs are one shard per file"
    )


class ReportSpec(RecipeModel):
    """What the report shows."""

    samples_per_reason: int = Field(3, ge=0, description="dropped documents shown per reason")
    sample_chars: int = Field(300, gt=0, description="characters shown per sample")
    histogram_bins: int = Field(30, gt=1, description="bins of each signal histogram")


class CurateRecipe(RecipeModel):
    """A curation run: inputs, ordered stages, output."""

    name: str = Field("curate", description="run name, shown in reports and MLflow")
    inputs: list[InputSpec] = Field(..., min_length=1, description="sources to read")
    stages: list[StageSpec] = Field(
        default_factory=list, description="stages in execution order (filters, signals, dedup)"
    )
    output: str = Field("curated", description="output directory (data/, dropped/, report)")
    keep_dropped: bool = Field(
        True, description="also write dropped documents with their reason to dropped/"
    )
    workers: int = Field(1, ge=1, le=512, description="worker processes (local executor)")
    executor: Literal["local", "ray"] = Field("local", description="local or ray")
    retries: int = Field(3, ge=0, le=100, description="ray: times a shard task lost with its "
                                                        "worker or node runs again before the "
                                                        "run fails")
    quiet: bool = Field(False, description="no progress bars on stderr")
    limits: LimitsSpec = Field(default_factory=lambda: LimitsSpec.model_validate({}),
                               description="size and shard caps")
    report: ReportSpec = Field(default_factory=lambda: ReportSpec.model_validate({}),
                               description="report settings")
    _source: str = PrivateAttr("recipe")

    @property
    def source(self) -> str:
        """The recipe file this came from (or ``<default ...>``), for one-line errors."""
        return self._source

    def with_source(self, source: str) -> CurateRecipe:
        self._source = source
        return self


def resolved_recipe(recipe: CurateRecipe) -> CurateRecipe:
    """The recipe as it runs: input paths with placeholders expanded and made absolute,
    the output absolute. This, not the text as typed, is what lineage records."""
    inputs = [spec.model_copy(update={"path": str(resolve_input_path(spec.path))})
              for spec in recipe.inputs]
    return recipe.model_copy(update={"inputs": inputs,
                                     "output": str(Path(recipe.output).absolute())})


def recipe_source(path: str | Path | None) -> Path | None:
    """The file a recipe was read from (the packaged default when ``path`` is None)."""
    if path is not None:
        return Path(path)
    packaged = Path(str(resources.files("codekiln_curate").joinpath(DEFAULT_RECIPE_NAME)))
    return packaged if packaged.is_file() else None


def placeholders() -> dict[str, str]:
    """Values of ``${name}`` placeholders in input paths, resolved at run time."""
    return {"stdlib": sysconfig.get_paths()["stdlib"], "cwd": os.getcwd()}


def resolve_input_path(raw: str) -> Path:
    """Expand placeholders, ``~`` and environment variables; absolute result."""
    text = raw
    for key, value in placeholders().items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        raise ConfigError(
            f"input path {raw!r}: unknown placeholder; known: "
            + ", ".join("${" + k + "}" for k in placeholders())
        )
    return Path(os.path.expandvars(os.path.expanduser(text))).absolute()


DEFAULT_RECIPE_NAME = "curate-default.yaml"


def default_recipe_text() -> str:
    """The embedded default recipe (a copy of recipes/curate-default.yaml)."""
    return resources.files("codekiln_curate").joinpath(DEFAULT_RECIPE_NAME).read_text("utf-8")


def load_curate_recipe(path: str | Path | None, overrides: Sequence[str] = ()) -> CurateRecipe:
    """Read a recipe file, or the embedded default when ``path`` is None."""
    if path is not None:
        return load_recipe(path, CurateRecipe, overrides).with_source(str(path))
    import yaml

    from codekiln_core.config import apply_override

    data = yaml.safe_load(default_recipe_text()) or {}
    for override in overrides:
        apply_override(data, override)
    source = f"<default {DEFAULT_RECIPE_NAME}>"
    return validate(data, CurateRecipe, source=source).with_source(source)


def load_resolved_recipe(path: Path | None, overrides: Sequence[str]) -> CurateRecipe:
    """What ``codekiln curate run`` runs and records: the recipe file (or the embedded
    default) with its overrides, placeholders expanded and paths absolute."""
    return resolved_recipe(load_curate_recipe(path, overrides))
