"""``metrics.jsonl`` survives ``kill -9``: a torn last line never blocks a resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.metrics import MetricsLog, read_metrics

ROWS = [{"step": s, "loss": 6.0 - s / 10, "lr": 1e-3} for s in range(1, 6)]


def written(path: Path, tail: str = "") -> Path:
    log = MetricsLog(path)
    for row in ROWS:
        log.append(row)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(tail)
    return path


@pytest.mark.parametrize("tail", ['{"grad_norm": 0.41, "loss": 5.', '{"step": 6', "\x00\x00",
                                  '{"loss": 5.1, "lr": 0.001, "step": 6}'])
def test_a_torn_last_line_is_dropped_and_the_file_resumes(tmp_path: Path, tail: str) -> None:
    path = written(tmp_path / "metrics.jsonl", tail)
    complete = tail.endswith("}")  # a whole row that only lost its newline is kept
    assert read_metrics(path) == ROWS + ([json.loads(tail)] if complete else [])
    log = MetricsLog(path)
    log.truncate_after(3)  # what --resume does from the step-3 checkpoint
    log.append({"step": 4, "loss": 0.5})
    assert read_metrics(path) == [*ROWS[:3], {"step": 4, "loss": 0.5}]
    assert path.read_text().endswith("}\n") and path.read_text().count("\n") == 4


def test_a_bad_line_before_the_last_is_a_one_line_error(tmp_path: Path) -> None:
    path = written(tmp_path / "metrics.jsonl")
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:10]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"metrics\.jsonl:3 is not a metrics row .*delete "
                                          "that line"):
        read_metrics(path)
