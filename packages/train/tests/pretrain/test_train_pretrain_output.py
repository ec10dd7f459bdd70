"""A pretraining output that cannot be written fails first, as one line naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main

from ..conftest import tiny_recipe, write_recipe


def test_read_only_output_fails_before_the_model_is_built(
        tiny_shards: Any, small_disk: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    read_only = small_disk(64 * 1024, read_only=True)
    recipe = write_recipe(tmp_path / "recipe.yaml", tiny_recipe(tiny_shards, read_only / "run"))
    assert main(["train", "pretrain", str(recipe), "--no-lineage", "--threads", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {read_only / 'run'}: cannot write here ({read_only}: Read-only file system); "
        "choose another --output or fix its permissions")
