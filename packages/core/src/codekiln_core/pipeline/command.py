"""A step's command line: references filled in, recipe, inputs, output and --set."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codekiln_core.pipeline.recipe import REFERENCE, StepConfig

#: Fills ``${steps.NAME.FIELD}`` (name, field) -> value; ``${workdir}`` is ("", "workdir").
Resolver = Callable[[str, str], str]


def substitute(value: Any, resolve: Resolver) -> Any:
    """``value`` with every pipeline reference replaced, through nested dicts and lists."""
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: resolve(m.group(2) or "", m.group(3) or "workdir"),
                             value)
    if isinstance(value, dict):
        return {k: substitute(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, resolve) for v in value]
    return value


def flatten_overrides(values: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``{"teacher": {"kind": "hf"}}`` -> ``['teacher.kind="hf"']``: values as JSON, which
    ``--set`` reads back (as YAML) to exactly the values written."""
    flat: list[str] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.extend(flatten_overrides(value, f"{name}."))
        else:  # JSON is YAML: "on", "1e-5" or "null" stay the strings they were written as
            flat.append(f"{name}={json.dumps(value)}")
    return flat


def build_argv(step: StepConfig, resolve: Resolver, *, output: Path | None,
               recipe_file: Path | None, resuming: bool = False) -> list[str]:
    """The words after ``codekiln`` for this step, in the command contract's shape:
    ``WORDS [RECIPE] [INPUT]... [--output PATH] [--set KEY=VALUE]... [--resume]``."""
    command = step.spec
    argv = list(command.words)
    if recipe_file is not None:
        argv.append(str(recipe_file))
    argv.extend(substitute(step.inputs, resolve))
    if output is not None and command.output is not None:
        argv.extend(["--output", str(output)])
    for override in flatten_overrides(substitute(step.set, resolve)):
        argv.extend(["--set", override])
    if resuming and command.resumable:
        argv.append("--resume")
    return argv
