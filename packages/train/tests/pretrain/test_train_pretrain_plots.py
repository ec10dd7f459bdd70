"""A pretraining run's own MLflow run holds its curves: loss, lr, and the validation loss
of a stage with a validation set, which is computed at the stage's end even without
``log.eval_every_steps`` (before, no validation loss was logged at all then)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_pretrain_run_logs_loss_lr_and_end_of_stage_validation_curves(
        make_recipe: Any, mlflow_store: str, tmp_path: Path) -> None:
    from codekiln_core.lineage import lineage_run
    from codekiln_core.testing import logged_curves
    from codekiln_train.metrics import read_metrics
    from codekiln_train.pretrain import run_pretrain
    from codekiln_train.recipe import load_pretrain_recipe

    path = make_recipe("plots", steps=4, log={"eval_every_steps": None},
                       checkpoint={"every_steps": 4})
    recipe = load_pretrain_recipe(path, ["device=cpu", "peak_flops=1e12"])
    assert recipe.log.eval_every_steps is None and recipe.stages[0].validation is not None
    with lineage_run("train.pretrain", config=recipe.model_dump(mode="json")) as run:
        result = run_pretrain(recipe, run=run)
    rows = read_metrics(Path(recipe.output) / "metrics.jsonl")
    assert [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r] == \
        [(4, pytest.approx(result.stages[0][1].final_val_loss))]
    assert result.run_id is not None
    curves = logged_curves(result.run_id, tmp_path)
    assert [p[0] for p in curves["loss"]["loss"]] == [1, 2, 3, 4]
    assert [p[0] for p in curves["loss"]["val_loss"]] == [4]
    assert [p[1] for p in curves["learning rate"]["lr"]] == \
        pytest.approx([r["lr"] for r in rows])
