"""``--resume`` continues only the run that began in the output: other recipe keys, another
start model or other data are a one-line error naming what changed; where it is logged and
registered may change."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_posttrain.recipe import DpoRecipe
from codekiln_posttrain.run_settings import FILE, check_or_note

from .conftest import preference_rows, write_jsonl


def test_resume_needs_the_settings_the_run_began_with(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    data = write_jsonl(tmp_path / "pairs.jsonl", preference_rows())
    base = {"model": str(model), "data": str(data), "output": str(tmp_path / "out")}
    check_or_note(DpoRecipe.model_validate(base), resume=False, rank_zero=True)
    assert (tmp_path / "out" / FILE).is_file()
    check_or_note(DpoRecipe.model_validate({**base, "register_as": "x", "log": {
        "every_steps": 5}}), resume=True, rank_zero=True)

    with pytest.raises(ConfigError, match=r"beta 0\.1 -> 0\.2; engine\.lr 2e-05 -> 0\.001"):
        check_or_note(DpoRecipe.model_validate({**base, "beta": 0.2, "engine": {
            "lr": 1e-3, "weight_decay": 0.0, "gradient_accumulation_steps": 1}}),
                      resume=True, rank_zero=True)
    write_jsonl(data, preference_rows()[:2])
    with pytest.raises(ConfigError, match=r"out/run-settings\.json: --resume with other "
                                          r"settings .*data\[0\] digest"):
        check_or_note(DpoRecipe.model_validate(base), resume=True, rank_zero=True)
