"""``--resume`` after ``kill -9`` left a torn last line in ``metrics.jsonl``, before the
stage's first checkpoint: the rerun redoes the stage and the file reads as one clean run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from codekiln_train.metrics import read_metrics
from codekiln_train.pretrain import run_pretrain
from codekiln_train.recipe import load_pretrain_recipe

TORN = '{"grad_norm": 0.41, "loss": 6.'  # a row cut off mid-write


def _curve(path: Path) -> list[tuple[Any, ...]]:
    return [(r["step"], r.get("loss"), r.get("grad_norm"), r.get("lr"), r.get("val_loss"))
            for r in read_metrics(path)]


def test_resume_before_the_first_checkpoint_over_a_torn_line(make_recipe: Any) -> None:
    plain = load_pretrain_recipe(make_recipe("plain", steps=3, checkpoint={"every_steps": 3}))
    run_pretrain(plain, lineage=False, device="cpu", peak_flops=1e12)
    killed = load_pretrain_recipe(make_recipe("killed", steps=3,
                                              checkpoint={"every_steps": 3}))
    # What the kill left: the stage begun, two whole rows, half of the third, no checkpoint.
    (Path(killed.output) / "stages" / "01-regular" / "checkpoints").mkdir(parents=True)
    rows = (Path(plain.output) / "metrics.jsonl").read_text().splitlines(keepends=True)
    (Path(killed.output) / "metrics.jsonl").write_text("".join(rows[:2]) + TORN)
    run_pretrain(killed, resume=True, lineage=False, device="cpu", peak_flops=1e12)
    metrics = Path(killed.output) / "metrics.jsonl"
    assert _curve(metrics) == _curve(Path(plain.output) / "metrics.jsonl")
    assert TORN not in metrics.read_text()
    shutil.rmtree(Path(plain.output))
