"""``--resume`` after ``kill -9`` left a torn last line in ``metrics.jsonl``, before the
stage's first checkpoint: the rerun redoes the stage and the file reads as one clean run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main
from codekiln_train.metrics import read_metrics

pytestmark = pytest.mark.slow  # two short training runs

TORN = '{"grad_norm": 0.41, "loss": 6.'  # a row cut off mid-write


def _curve(path: Path) -> list[tuple[Any, ...]]:
    return [(r["step"], r.get("loss"), r.get("grad_norm"), r.get("lr"), r.get("val_loss"))
            for r in read_metrics(path)]


def _pretrain(recipe: Path, *extra: str) -> None:
    status = main(["train", "pretrain", str(recipe), "--no-lineage", "--threads", "1", *extra])
    assert status == 0, f"codekiln train pretrain {recipe} {extra} exited {status}"


def test_resume_before_the_first_checkpoint_over_a_torn_line(make_recipe: Any,
                                                             tmp_path: Path) -> None:
    short = {"steps": 3, "checkpoint": {"every_steps": 3}}
    _pretrain(make_recipe("plain", **short))
    killed = make_recipe("killed", **short)
    # What the kill left: the stage begun, two whole rows, half of the third, no checkpoint.
    (tmp_path / "killed" / "stages" / "01-regular" / "checkpoints").mkdir(parents=True)
    rows = (tmp_path / "plain" / "metrics.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "killed" / "metrics.jsonl").write_text("".join(rows[:2]) + TORN)
    _pretrain(killed, "--resume")
    metrics = tmp_path / "killed" / "metrics.jsonl"
    assert _curve(metrics) == _curve(tmp_path / "plain" / "metrics.jsonl")
    assert TORN not in metrics.read_text()
