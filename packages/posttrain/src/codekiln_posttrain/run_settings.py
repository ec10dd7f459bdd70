"""The settings a training run began with, kept in its output: ``--resume`` continues only
that run.

Core refuses an existing output without ``--resume``; with it, the checkpoint there is
loaded. Were the recipe, the start model or the data changed in between, the resumed run
would continue another run's weights, optimizer and data position under the new settings.
So the first run writes ``run-settings.json`` (every recipe key that shapes the training,
plus digests of the start model and data files) and a resumed run must match it; a
one-line error names each key that differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_write_json

if TYPE_CHECKING:
    from codekiln_posttrain.recipe import BaseRecipe

FILE = "run-settings.json"
#: Keys that may change on resume: where it is logged, registered and checkpointed, and
#: how many processes share the same global batch.
FREE = ("output", "register_as", "log", "checkpoint", "launcher", "hostfile", "num_gpus",
        "master_port", "dry_run")


def settings_of(recipe: BaseRecipe) -> dict[str, Any]:
    """Every training-shaping recipe key (dotted) and the digests of model and data."""
    from codekiln_core.lineage.refs import digest_path

    flat = _flatten({k: v for k, v in recipe.model_dump(mode="json").items()
                     if k not in FREE})
    model = Path(recipe.model)
    flat["model digest"] = digest_path(model) if model.is_dir() else recipe.model
    for index, path in enumerate(recipe.data):
        flat[f"data[{index}] digest"] = digest_path(Path(path))
    return flat


def check_or_note(recipe: BaseRecipe, *, resume: bool, rank_zero: bool) -> None:
    """A fresh run notes its settings (rank 0); a resumed one must have the same."""
    path = Path(recipe.output) / FILE
    mine = settings_of(recipe)
    if resume and path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        differs = [f"{key} {before.get(key)!r} -> {mine.get(key)!r}"
                   for key in sorted(set(before) | set(mine)) if before.get(key) != mine.get(key)]
        if differs:
            raise ConfigError(f"{path}: --resume with other settings than the run began with "
                              f"({'; '.join(differs)}); resume with the same recipe, model and "
                              "data, or choose a new --output")
        return
    if rank_zero:
        atomic_write_json(path, mine)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}
