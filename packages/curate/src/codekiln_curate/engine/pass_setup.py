"""Constructed stages for one pass, rebuilt from the recipe inside each worker process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from codekiln_curate.engine.plan import instantiate, split_passes
from codekiln_curate.engine.stage_runner import StageRunner
from codekiln_curate.recipe import CurateRecipe, StageSpec


def registry() -> Any:
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry

    return Registry(get_plugin_manager(warn=False))


@dataclass
class PassSetup:
    runners: list[StageRunner]
    apply_global: Any
    global_after: Any
    signal_fields: list[tuple[str, pa.DataType]]
    is_final: bool
    keep_dropped: bool
    max_file_bytes: int
    registry: Any

    @classmethod
    def build(cls, recipe_data: dict[str, Any], pass_index: int) -> PassSetup:
        recipe = CurateRecipe.model_validate(recipe_data)
        reg = registry()
        passes = split_passes([s for s in recipe.stages if s.enabled], reg)
        current = passes[pass_index]

        def make(spec: StageSpec | None) -> Any:
            return None if spec is None else instantiate(reg, spec)

        runners = [StageRunner(spec, make(spec)) for spec in current.stages]
        return cls(runners, make(current.apply_global), make(current.global_after),
                   current.signal_fields, pass_index == len(passes) - 1, recipe.keep_dropped,
                   recipe.limits.max_file_bytes, reg)
