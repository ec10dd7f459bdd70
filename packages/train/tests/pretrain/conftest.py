"""Recipes over the session's tiny shards for the pretraining tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml


def tiny_recipe(shards: Any, output: Path, *, steps: int = 12, second_stage: bool = False,
                **sections: Any) -> dict[str, Any]:
    """A one- or two-stage recipe on ``tiny_shards``: a 2-layer tiny model, 1 thread."""
    stage = {"name": "regular",
             "mixture": [{"path": str(shards.code), "weight": 2.0, "name": "code"},
                         {"path": str(shards.extra), "weight": 1.0, "name": "extra"}],
             "validation": str(shards.validation), "steps": steps,
             "schedule": {"kind": "wsd", "warmup_steps": 2, "decay_fraction": 0.25}}
    recipe: dict[str, Any] = {
        "model": {"preset": "tiny", "num_hidden_layers": 2},
        "engine": {"micro_batch_size": 4, "gradient_accumulation_steps": 2, "lr": 3e-3},
        "stages": [stage],
        "checkpoint": {"every_steps": 4, "keep_last": 2},
        "log": {"every_steps": 1, "eval_every_steps": 6, "eval_batches": 2},
        "seed": 0, "output": str(output)}
    if second_stage:
        recipe["stages"].append({
            "name": "continued", "mixture": [{"path": str(shards.code), "name": "code"}],
            "steps": 4, "lr": 1e-3, "rope_theta": 100000.0,
            "schedule": {"kind": "cosine", "warmup_steps": 0}})
    for key, value in sections.items():
        recipe[key] = {**recipe.get(key, {}), **value}
    return recipe


def write_recipe(path: Path, recipe: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def make_recipe(tiny_shards: Any, tmp_path: Path) -> Any:
    """``make_recipe(name, shards=None, **tiny_recipe_kwargs) -> recipe file``; output under
    tmp_path/name; ``shards`` replaces the session's (an object with the same paths)."""

    def make(name: str, shards: Any = None, **kwargs: Any) -> Path:
        recipe = tiny_recipe(shards or tiny_shards, tmp_path / name, **kwargs)
        return write_recipe(tmp_path / f"{name}.yaml", recipe)

    return make
