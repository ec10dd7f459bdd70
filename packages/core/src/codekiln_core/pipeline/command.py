"""A step's command line: references filled in, recipe, inputs, output, options and --set."""

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
    """``{"teacher": {"kind": "hf"}}`` -> ``["teacher.kind=hf"]``; values stay YAML-readable."""
    flat: list[str] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.extend(flatten_overrides(value, f"{name}."))
        elif isinstance(value, str):
            flat.append(f"{name}={value}")
        else:
            flat.append(f"{name}={json.dumps(value)}")
    return flat


def option_args(options: Mapping[str, Any]) -> list[str]:
    """``{"drop_percentile": 10, "force": True, "n": 4}``: ``--drop-percentile 10 --force -n 4``."""
    args: list[str] = []
    for key, value in options.items():
        if value is None:
            continue
        flag = f"-{key}" if len(key) == 1 else f"--{key.replace('_', '-')}"
        if value is True:
            args.append(flag)
        elif value is False:
            args.append(f"--no-{key.replace('_', '-')}")
        elif isinstance(value, list):
            for item in value:
                args.extend([flag, _text(item)])
        else:
            args.extend([flag, _text(value)])
    return args


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def build_argv(step: StepConfig, resolve: Resolver, *, output: Path | None,
               recipe_file: Path | None, resuming: bool = False) -> list[str]:
    """The words after ``codekiln`` for this step (``resuming``: with the kind's resume flag)."""
    argv = list(step.argv_prefix)
    style = step.recipe_style
    if recipe_file is not None and style == "positional":
        argv.append(str(recipe_file))
    argv.extend(substitute(step.inputs, resolve))
    if recipe_file is not None and style == "option":
        argv.extend(["--recipe", str(recipe_file)])
    if output is not None and step.output_option:
        argv.extend([step.output_option, str(output)])
    elif output is not None and step.output_key:
        argv.extend(["--set", f"{step.output_key}={output}"])
    argv.extend(option_args(substitute(step.options, resolve)))
    for override in flatten_overrides(substitute(step.set, resolve)):
        argv.extend(["--set", override])
    argv.extend(substitute(step.args, resolve))
    if resuming and step.spec.resume_flag:
        argv.append(step.spec.resume_flag)
    return argv
