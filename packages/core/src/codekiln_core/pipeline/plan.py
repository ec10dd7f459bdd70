"""``codekiln run --dry-run``: each step's command line, with outputs resolved statically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.pipeline.command import build_argv, substitute
from codekiln_core.pipeline.recipe import PipelineRecipe, StepConfig
from codekiln_core.pipeline.state import PipelineState

if TYPE_CHECKING:
    from rich.console import Console


def static_output(recipe: PipelineRecipe, step: StepConfig) -> Path | None:
    workdir = recipe.work_path.resolve()
    if step.output:
        return Path(substitute(step.output, lambda n, f: _static(recipe, n, f))).resolve()
    return workdir / step.name if step.has_output else None


def _static(recipe: PipelineRecipe, name: str, field: str) -> str:
    if field == "workdir":
        return str(recipe.work_path.resolve())
    if field == "run_id":
        return f"<run id of {name}>"
    output = static_output(recipe, recipe.step(name))
    return str(output) if output else f"<output of {name}>"


def plan(recipe: PipelineRecipe) -> list[tuple[StepConfig, list[str] | None]]:
    """(step, argv) in order; argv is None for a disabled step."""
    state = PipelineState(recipe.work_path.resolve())
    rows: list[tuple[StepConfig, list[str] | None]] = []
    for step in recipe.steps:
        if not step.enabled:
            rows.append((step, None))
            continue
        recipe_file = Path(step.recipe) if step.recipe else (
            state.recipe_path(step.name) if step.config is not None else None)
        argv = build_argv(step, lambda n, f: _static(recipe, n, f),
                          output=static_output(recipe, step), recipe_file=recipe_file)
        rows.append((step, argv))
    return rows


def print_plan(console: Console, recipe: PipelineRecipe, from_step: str | None,
               until_step: str | None) -> None:
    names = [s.name for s in recipe.steps]
    first = names.index(from_step) if from_step in names else 0
    last = names.index(until_step) if until_step in names else len(names) - 1
    from codekiln_core.pipeline.seeds import seed_of

    for index, (step, argv) in enumerate(plan(recipe)):
        seed = seed_of(recipe, step.name) if step.seeded else None
        if seed is not None:
            console.print(f"# {step.name}: seed {seed} of {recipe.seeds}", markup=False,
                          highlight=False)
        if argv is None:
            console.print(f"# {step.name} ({step.kind}): disabled")
        elif not first <= index <= last:
            console.print(f"# {step.name} ({step.kind}): outside --from/--until")
        else:
            console.print(f"codekiln {' '.join(argv)}", soft_wrap=True, markup=False,
                          highlight=False)
