"""The pipeline recipe: named steps, each one ``codekiln`` command with its recipe and overrides.

Validated before anything runs. Cross-step references (``${steps.NAME.output}``) are checked
here too, so a typo fails in one line naming the file, the key and the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from codekiln_core.cli.contract import Command
from codekiln_core.config import RecipeModel, apply_override, read_yaml_mapping, validate
from codekiln_core.errors import ConfigError
from codekiln_core.pipeline.kinds import command_for

#: ``${steps.NAME.FIELD}`` and ``${workdir}``; any other ``${...}`` is left for the command.
REFERENCE = re.compile(r"\$\{(steps\.([A-Za-z0-9_-]+)\.([a-z_]+)|workdir)\}")
STEP_FIELDS = ("output", "run_id")
_STEP_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


class StepConfig(RecipeModel):
    """One step: a registered ``codekiln`` command run as its own process and MLflow run."""

    name: str = Field(pattern=_STEP_NAME, description="step name, unique in the pipeline; "
                      "later steps refer to its output as ${steps.NAME.output}")
    kind: str = Field(description="the command that runs: its dotted name "
                      "(curate.samples.repos) or its step name (pretrain); "
                      "`codekiln plugins list` shows them")
    enabled: bool = Field(True, description="false: the step is listed but never runs")
    recipe: str | None = Field(None, description="the command's own recipe file (relative "
                               "to this pipeline file)")
    config: dict[str, Any] | None = Field(None, description="an inline recipe, used instead "
                                          "of a recipe file")
    set: dict[str, Any] = Field({}, description="overrides of the command's recipe keys "
                                "(nested or dotted keys), passed as --set KEY=VALUE")
    inputs: list[str] = Field([], description="the command's INPUT arguments, usually "
                              "${steps.NAME.output} of earlier steps")
    output: str | None = Field(None, description="output path; default WORKDIR/NAME")
    env: dict[str, str] = Field({}, description="extra environment variables for the step")
    metrics: list[str] | None = Field(None, description="metrics shown in the summary table "
                                      "(default: the command's key metrics)")
    seeded: bool | None = Field(None, description="repeat the step once per seed (as "
                                "NAME-sSEED); default: when it uses ${seed} or a seeded step")
    gather_seeds: bool = Field(False, description="run once over every seed: a list item "
                               "using ${seed} or a seeded step is repeated once per seed")

    @model_validator(mode="before")
    @classmethod
    def _old_spellings(cls, data: Any) -> Any:
        return upgrade_step(data) if isinstance(data, dict) else data

    @property
    def spec(self) -> Command[Any]:
        """The registered command this step runs."""
        return command_for(self.kind)

    @property
    def has_output(self) -> bool:
        return self.spec.output is not None

    @property
    def self_resuming(self) -> bool:
        return self.spec.resumable


#: Option names of codekiln 0.1 whose recipe key is spelled differently.
OLD_FLAGS = {"register": "register_as", "k": "ks", "serve_arg": "serve_args",
             "metric": "metrics"}


def upgrade_step(data: dict[str, Any]) -> dict[str, Any]:
    """Read a step written for codekiln 0.1 (``options``, ``kind: command``,
    ``output_flag``, ``recipe_as``, ``resumes``), saying once per key what to write now."""
    data = dict(data)
    name = data.get("name", "?")
    if "options" in data:
        _deprecated(name, "options", "write them under set: (recipe keys)")
        options = {OLD_FLAGS.get(key, key): value
                   for key, value in dict(data.pop("options") or {}).items()}
        data["set"] = {**options, **dict(data.get("set") or {})}
    if data.get("kind") == "command" and "command" in data:
        _deprecated(name, "kind: command", "name the command as the kind, e.g. "
                    "kind: curate.samples.repos")
        data["kind"] = ".".join(str(word) for word in data.pop("command"))
    for key in ("output_flag", "recipe_as", "resumes"):
        if key in data:
            _deprecated(name, key, "the command's registration decides it; drop the key")
            data.pop(key)
    return data


def _deprecated(step: str, key: str, hint: str) -> None:
    import sys

    print(f"codekiln: step {step!r}: {key!r} is deprecated and will be removed in the next "
          f"release; {hint}", file=sys.stderr)


class PipelineRecipe(RecipeModel):
    """A pipeline: steps run in order, each resumable, all under one parent MLflow run."""

    name: str = Field("pipeline", pattern=_STEP_NAME, description="pipeline name (the "
                      "parent MLflow run's name)")
    workdir: str | None = Field(None, description="where outputs and step state live; "
                                "default .codekiln/pipelines/NAME")
    seeds: list[int] = Field([0], min_length=1, description="seeds of the seeded steps "
                             "(codekiln run --seeds N: 0..N-1)")
    steps: list[StepConfig] = Field(min_length=1, description="the steps, in order")

    @property
    def work_path(self) -> Path:
        return Path(self.workdir or Path(".codekiln") / "pipelines" / self.name)

    def step(self, name: str) -> StepConfig:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


def load_pipeline(path: str | Path, overrides: Sequence[str] = (),
                  seeds: Sequence[int] | None = None) -> PipelineRecipe:
    """Read, override (``--set steps.NAME.key=value`` addresses a step by name), validate,
    and repeat the seeded steps once per seed (``seeds``: default the recipe's ``seeds``)."""
    from codekiln_core.pipeline.seeds import expand_seeds

    source = Path(path)
    data = read_yaml_mapping(source)
    for override in overrides:
        _apply(data, override)
    recipe = validate(data, PipelineRecipe, source=str(source))
    check_pipeline(recipe, str(source))
    recipe = expand_seeds(recipe, str(source), seeds)
    base = source.resolve().parent
    for step in recipe.steps:  # a step's recipe file is relative to the pipeline file
        if step.recipe and not Path(step.recipe).is_absolute():
            step.recipe = str(base / step.recipe)
    return recipe


def _apply(data: dict[str, Any], override: str) -> None:
    key = override.partition("=")[0].strip()
    parts = key.split(".")
    steps = data.get("steps")
    if len(parts) > 2 and parts[0] == "steps" and isinstance(steps, list) \
            and not parts[1].isdigit():
        for step in steps:
            if isinstance(step, dict) and step.get("name") == parts[1]:
                apply_override(step, override.split(".", 2)[2])
                return
        names = ", ".join(str(s.get("name")) for s in steps if isinstance(s, dict))
        raise ConfigError(f"--set {override!r}: no step named {parts[1]!r}; steps: {names}")
    if len(parts) > 2 and parts[0] == "steps" and isinstance(steps, list):
        data["steps"] = {str(i): s for i, s in enumerate(steps)}  # index form: steps.0.x
        apply_override(data, override)
        data["steps"] = [data["steps"][str(i)] for i in range(len(steps))]
        return
    apply_override(data, override)


def check_pipeline(recipe: PipelineRecipe, source: str) -> None:
    """Kinds exist, names are unique, references point at earlier enabled steps."""
    seen: dict[str, StepConfig] = {}
    for index, step in enumerate(recipe.steps):
        where = f"{source}: key 'steps.{index}"
        command = command_for(step.kind, f"{where}.kind'")
        if step.name in seen:
            raise ConfigError(f"{where}.name' = {step.name!r}: two steps have this name; "
                              "give each step its own name")
        if step.recipe and step.config is not None:
            raise ConfigError(f"{where}.config': step {step.name!r} has both a recipe file "
                              "and an inline config; keep one")
        if step.inputs and command.inputs is None:
            raise ConfigError(f"{where}.inputs': {command.name} takes no INPUT arguments; "
                              "set its recipe keys under set: instead")
        if step.enabled:
            for key, text in step_strings(step):
                _check_references(text, seen, f"{where}.{key}'")
        seen[step.name] = step


def step_strings(step: StepConfig) -> list[tuple[str, str]]:
    """Every string of a step that may hold a reference, with its key for error messages."""
    found: list[tuple[str, str]] = []

    def walk(key: str, value: Any) -> None:
        if isinstance(value, str):
            found.append((key, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{key}.{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{key}.{i}", v)

    for field in ("recipe", "config", "inputs", "set", "output", "env"):
        walk(field, getattr(step, field))
    return found


def _check_references(text: str, earlier: dict[str, StepConfig], where: str) -> None:
    for match in REFERENCE.finditer(text):
        if match.group(1) == "workdir":
            continue
        name, field = match.group(2), match.group(3)
        if name not in earlier:
            known = ", ".join(earlier) or "none"
            raise ConfigError(f"{where} = {text!r}: no earlier step named {name!r} "
                              f"(earlier steps: {known}); a step can use only the outputs "
                              "of steps above it")
        if not earlier[name].enabled:
            raise ConfigError(f"{where} = {text!r}: step {name!r} is disabled; enable it "
                              "or drop the reference")
        if field not in STEP_FIELDS:
            raise ConfigError(f"{where} = {text!r}: steps have {', '.join(STEP_FIELDS)}, "
                              f"not {field!r}")


def referenced_steps(step: StepConfig) -> list[str]:
    """Names of the earlier steps this one reads, in order of first use."""
    names: list[str] = []
    for _, text in step_strings(step):
        for match in REFERENCE.finditer(text):
            if match.group(2) and match.group(2) not in names:
                names.append(match.group(2))
    return names
