"""Reading labels: layouts, bad rows as one-line errors, and a split that never moves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.scorer.labels import is_held_out, load_labels, split_labels

from ..conftest import label_rows, write_labels


def test_labels_parquet_and_jsonl_give_the_same_labels(tmp_path: Path) -> None:
    rows = label_rows(10)
    from_parquet = load_labels(write_labels(tmp_path / "pq", rows))
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text("".join(json.dumps(row) + "\n" for row in reversed(rows)))
    assert load_labels(jsonl) == from_parquet  # sorted by id: file order does not matter
    assert len(from_parquet) == 30
    assert {label.language for label in from_parquet} == {"python", "json"}


def test_held_out_split_is_stable_when_labels_are_added() -> None:
    from codekiln_train.scorer.labels import Label

    labels = [Label(f"id-{i}", "python", "x", 5.0) for i in range(2000)]
    train, held = split_labels(labels, 10)
    assert 150 < len(held) < 250 and len(train) + len(held) == 2000
    more = labels + [Label(f"new-{i}", "python", "x", 5.0) for i in range(500)]
    _, held_more = split_labels(more, 10)
    assert {lab.id for lab in held} <= {lab.id for lab in held_more}
    assert all(is_held_out(lab.id, 10) for lab in held)


@pytest.mark.parametrize(("row", "needle"), [
    ({"content": "x = 1\n", "score": 11}, "11"),
    ({"content": "x = 1\n", "score": "seven"}, "seven"),
    ({"content": "x = 1\n", "score": True}, "True"),
    ({"content": "x = 1\n", "score": "11"}, "'11'"),
    ({"content": "x = 1\n"}, "'score' missing"),
    ({"score": 3}, "'content' missing"),
])
def test_bad_row_is_one_line_error_naming_file_and_row(tmp_path: Path, row: dict[str, object],
                                                       needle: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"content": "ok\n", "score": 5}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(ConfigError) as info:
        load_labels(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "row 1" in message
    assert needle in message


def test_missing_or_empty_labels_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"labels .*nope: no such file or directory"):
        load_labels(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"nothing to read here \(no \*\.parquet"):
        load_labels(tmp_path)
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:1: invalid JSON"):
        load_labels(tmp_path)


def test_too_few_labels_for_a_held_out_split_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"id": "a", "content": "x\n", "score": 5}) + "\n")
    with pytest.raises(ConfigError, match="eval_percent"):
        split_labels(load_labels(path), 10)


@pytest.mark.parametrize("score", ["5", " 7.5 ", 5, 5.0])
def test_numeric_strings_are_scores_as_in_pydantic_lax_mode(tmp_path: Path,
                                                             score: object) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"id": "a", "content": "x\n", "score": score}) + "\n")
    assert load_labels(path)[0].score == float(str(score).strip())
