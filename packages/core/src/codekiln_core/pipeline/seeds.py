"""Seeds: repeat the seed-dependent steps of a pipeline once per seed, share the rest.

A step is *seeded* when it says ``seeded: true``, or (unless it says ``seeded: false``) when
one of its values uses ``${seed}`` or a seeded step's ``${steps.NAME.…}``. A seeded step
becomes one copy per seed, named ``NAME-sSEED``: in the copy ``${seed}`` is the seed and a
seeded step's reference points at that seed's copy. Data steps that use neither stay one
step, shared by every seed. A ``gather_seeds: true`` step (a comparison) runs once: each
list item of it that uses ``${seed}`` or a seeded step is repeated once per seed.

Copies are ordered seed by seed within each stretch of consecutive seeded steps, so seed 0's
whole arm finishes before seed 1 starts; a rerun with more seeds skips the seeds it has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.pipeline.recipe import (
    REFERENCE,
    PipelineRecipe,
    StepConfig,
    check_pipeline,
    step_strings,
)

SEED = re.compile(r"\$\{seed\}")
_FIELDS = ("recipe", "config", "inputs", "set", "output", "env")


def copy_name(name: str, seed: int) -> str:
    return f"{name}-s{seed}"


def parse_seeds(text: str) -> list[int]:
    """``--seeds 3`` -> [0, 1, 2]; ``--seeds 0,4,7`` -> [0, 4, 7]."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if not values or any(v < 0 for v in values):
        raise ConfigError(f"--seeds {text!r}: give a count (--seeds 3 runs seeds 0, 1, 2) or "
                          "a list of seeds >= 0 (--seeds 0,4,7)")
    if len(values) == 1 and "," not in text:
        if values[0] < 1:
            raise ConfigError(f"--seeds {text!r}: the count must be at least 1")
        return list(range(values[0]))
    return check_seed_list(values, "--seeds")


def check_seed_list(values: Sequence[int], where: str) -> list[int]:
    if len(set(values)) != len(values) or any(v < 0 for v in values):
        raise ConfigError(f"{where} {list(values)}: seeds must be distinct and >= 0")
    return list(values)


def _uses(text: str, seeded: set[str]) -> bool:
    if SEED.search(text):
        return True
    return any(m.group(2) in seeded for m in REFERENCE.finditer(text) if m.group(2))


def _is_list_item(key: str) -> bool:
    return key.rsplit(".", 1)[-1].isdigit()


def seeded_steps(recipe: PipelineRecipe, source: str) -> set[str]:
    """Names of the steps repeated per seed; a contradictory step fails in one line."""
    seeded: set[str] = set()
    for index, step in enumerate(recipe.steps):
        where = f"{source}: key 'steps.{index}"
        uses = [(k, t) for k, t in step_strings(step) if _uses(t, seeded)]
        if step.gather_seeds:
            if step.seeded:
                raise ConfigError(f"{where}.gather_seeds' = true: step {step.name!r} also says "
                                  "seeded: true; a step either runs per seed or gathers them")
            for key, text in uses:
                if not _is_list_item(key):
                    raise ConfigError(
                        f"{where}.{key}' = {text!r}: a gather_seeds step uses ${{seed}} or a "
                        "seeded step only in list items (one item per seed); put it in a list")
            continue
        if step.seeded or (step.seeded is None and uses):
            seeded.add(step.name)
        elif uses:
            key, text = uses[0]
            raise ConfigError(f"{where}.{key}' = {text!r}: step {step.name!r} says seeded: "
                              "false but uses ${seed} or a seeded step; drop seeded: false, "
                              "or set gather_seeds: true to collect every seed")
    return seeded


def _rewrite(text: str, seed: int, seeded: set[str]) -> str | int:
    if text == "${seed}":
        return seed
    text = SEED.sub(str(seed), text)

    def point(match: re.Match[str]) -> str:
        name = match.group(2)
        if name and name in seeded:
            return "${steps." + copy_name(name, seed) + "." + str(match.group(3)) + "}"
        return match.group(0)

    return REFERENCE.sub(point, text)


def _for_seed(value: Any, seed: int, seeded: set[str]) -> Any:
    if isinstance(value, str):
        return _rewrite(value, seed, seeded)
    if isinstance(value, dict):
        return {k: _for_seed(v, seed, seeded) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_seed(v, seed, seeded) for v in value]
    return value


def _gathered(value: Any, seeds: Sequence[int], seeded: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _gathered(v, seeds, seeded) for k, v in value.items()}
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if isinstance(item, str) and _uses(item, seeded):
                items.extend(_rewrite(item, s, seeded) for s in seeds)
            else:
                items.append(_gathered(item, seeds, seeded))
        return items
    return value


def _copy(step: StepConfig, seed: int, seeded: set[str]) -> StepConfig:
    update = {f: _for_seed(getattr(step, f), seed, seeded) for f in _FIELDS}
    update["name"] = copy_name(step.name, seed)
    update["seeded"] = True  # marks the copy (the dry run and summary name its seed)
    return step.model_copy(update=update)


def expand_seeds(recipe: PipelineRecipe, source: str,
                 seeds: Sequence[int] | None = None) -> PipelineRecipe:
    """The recipe with each seeded step repeated per seed (unchanged when none is seeded)."""
    chosen = check_seed_list(list(seeds) if seeds is not None else recipe.seeds,
                             f"{source}: key 'seeds' =" if seeds is None else "--seeds")
    seeded = seeded_steps(recipe, source)
    if not seeded:
        return recipe.model_copy(update={"seeds": chosen})
    steps: list[StepConfig] = []
    block: list[StepConfig] = []

    def flush() -> None:
        steps.extend(_copy(s, seed, seeded) for seed in chosen for s in block)
        block.clear()

    for step in recipe.steps:
        if step.name in seeded:
            block.append(step)
            continue
        flush()
        if step.gather_seeds:
            update = {f: _gathered(getattr(step, f), chosen, seeded) for f in _FIELDS}
            step = step.model_copy(update=update)
        steps.append(step)
    flush()
    names = [s.name for s in steps]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ConfigError(f"{source}: seeded copies clash with step names {clash}; rename "
                          "those steps (NAME-sSEED is taken by the copies)")
    expanded = recipe.model_copy(update={"steps": steps, "seeds": chosen})
    check_pipeline(expanded, f"{source} (seeds {chosen})")
    return expanded


def step_range_name(recipe: PipelineRecipe, name: str | None, *, last: bool) -> str | None:
    """``--from``/``--until`` may name a seeded step: its first (or last) copy."""
    if name is None or any(s.name == name for s in recipe.steps):
        return name
    copies = [copy_name(name, seed) for seed in recipe.seeds]
    present = [c for c in copies if any(s.name == c for s in recipe.steps)]
    if not present:
        return name  # the runner names the unknown step and lists the real ones
    return present[-1] if last else present[0]


def seed_of(recipe: PipelineRecipe, step_name: str) -> int | None:
    """The seed of a copy (``NAME-sSEED``), None for a shared step."""
    match = re.fullmatch(r".+-s(\d+)", step_name)
    step = next((s for s in recipe.steps if s.name == step_name), None)
    if match and step is not None and step.seeded and int(match.group(1)) in recipe.seeds:
        return int(match.group(1))
    return None
