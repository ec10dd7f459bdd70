"""Recipes: overrides, and one-line errors naming file, key, value and what is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from codekiln_core.config import RecipeModel, apply_override, load_recipe, model_help
from codekiln_core.errors import ConfigError


class Dedup(RecipeModel):
    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity in (0, 1]")
    level: Literal["file", "repo"] = Field("file", description="dedup unit")


class Recipe(RecipeModel):
    name: str = Field(description="recipe name")
    workers: int = Field(2, ge=1, description="worker processes, at least 1")
    dedup: Dedup = Field(default_factory=Dedup, description="near-dedup settings")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_recipe_with_overrides(tmp_path: Path):
    path = write(tmp_path, "name: demo\ndedup:\n  threshold: 0.7\n")
    recipe = load_recipe(path, Recipe, ["workers=4", "dedup.level=repo", "name=other"])
    assert recipe.workers == 4 and recipe.dedup.level == "repo" and recipe.name == "other"
    assert recipe.dedup.threshold == 0.7


@pytest.mark.parametrize(
    ("text", "overrides", "expected"),
    [
        ("name: x\nworkers: many\n", [], ["recipe.yaml", "'workers'", "'many'", "integer"]),
        ("name: x\nworkers: 0\n", [], ["'workers'", "0", "greater than or equal to 1"]),
        ("name: x\ndedup:\n  level: folder\n", [],
         ["'dedup.level'", "'folder'", "'file' or 'repo'"]),
        ("name: x\ndedup:\n  threshold: 1.5\n", [], ["'dedup.threshold'", "1.5", "(0, 1]"]),
        ("name: x\nwrokers: 3\n", [], ["unknown key 'wrokers'", "dedup, name, workers"]),
        ("name: x\ndedup:\n  treshold: 0.5\n", [],
         ["unknown key 'dedup.treshold'", "level, threshold"]),
        ("workers: 2\n", [], ["'name' is required", "recipe name"]),
        ("name: x\n", ["workers=-3"], ["'workers'", "-3"]),
        ("- just\n- a list\n", [], ["top level is a list", "mapping"]),
        ("name: [unclosed\n", [], ["recipe.yaml", "line 2", "YAML"]),
    ],
)
def test_bad_recipes_give_one_line(tmp_path: Path, text: str, overrides: list[str],
                                   expected: list[str]):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_recipe(path, Recipe, overrides)
    message = str(err.value)
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_missing_file_names_path(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read recipe"):
        load_recipe(tmp_path / "nope.yaml", Recipe)


@pytest.mark.parametrize("bad", ["noequals", "=3"])
def test_malformed_override(bad: str):
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_override({}, bad)


def test_override_through_a_scalar_is_refused():
    with pytest.raises(ConfigError, match="'workers' holds 2, not a mapping"):
        apply_override({"workers": 2}, "workers.x=1")


def test_override_values_are_yaml_typed():
    data: dict[str, object] = {}
    for item in ["a.b=3", "a.c=true", "a.d=[1, 2]", "a.e=text", "a.f="]:
        apply_override(data, item)
    assert data == {"a": {"b": 3, "c": True, "d": [1, 2], "e": "text", "f": ""}}


def test_override_indexes_lists():
    data: dict[str, object] = {"stages": [{"lr": 1}, {"lr": 2, "mix": [{"w": 1}]}],
                               "tags": ["a", "b"]}
    for item in ["stages.1.lr=0.5", "stages.1.mix.0.w=0.5", "stages.0.new=x", "tags.1=c"]:
        apply_override(data, item)
    assert data == {"stages": [{"lr": 1, "new": "x"}, {"lr": 0.5, "mix": [{"w": 0.5}]}],
                    "tags": ["a", "c"]}
    for bad in ["stages.2.lr=1", "stages.first.lr=1", "tags.5=x"]:
        with pytest.raises(ConfigError, match=r"must index a list of 2 item\(s\) with 0\.\.1"):
            apply_override(data, bad)


def test_model_help_lists_fields_with_descriptions():
    text = model_help(Recipe)
    assert "workers (default 2): worker processes, at least 1" in text
    assert "name (required): recipe name" in text
