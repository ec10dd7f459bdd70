"""DPO's inputs cannot silently train wrong: a repeated pair id is a one-line error naming
the file, line, key and fix before anything loads; a pair whose chosen equals its rejected
answer (as written, or once cut to ``max_seq_len``) is dropped with a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main
from codekiln_posttrain.dpo import drop_identical, encode_pairs, warn_identical

from .conftest import fenced, preference_rows, write_jsonl


def refused(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    model = tmp_path / "model"  # never loaded: the data is checked first
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text("{}")
    out = tmp_path / "out"
    assert main(["posttrain", "dpo", str(data), "--model", str(model), "-o", str(out),
                 "--no-lineage", "--set", "decontamination.enabled=false"]) == 2
    assert not out.exists() or not any(out.iterdir())  # nothing trained, nothing written
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_a_repeated_pair_id_is_refused(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rows = preference_rows()
    rows[2]["id"] = rows[0]["id"]
    data = write_jsonl(tmp_path / "pairs.jsonl", rows)
    err = refused(data, tmp_path, capsys)
    assert f"{data}:3: key 'id' = 'add' repeats the id of {data}:1" in err
    assert "give each row its own id" in err

    unnamed = [{k: v for k, v in row.items() if k != "id"} for row in preference_rows()]
    data = write_jsonl(tmp_path / "copies.jsonl", [*unnamed, unnamed[1]])
    err = refused(data, tmp_path, capsys)
    assert f"{data}:5: the row repeats {data}:2 exactly" in err and "remove one" in err


def test_identical_answers_are_dropped_with_a_warning(tokenizer: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = preference_rows()
    rows[1]["rejected"] = rows[1]["chosen"]
    long = "x = 1\n" * 200
    rows[2]["chosen"], rows[2]["rejected"] = fenced(long + "y\n"), fenced(long + "z\n")
    pairs, dropped = drop_identical(encode_pairs(tokenizer, rows, 128))
    assert dropped == [rows[1]["id"], rows[2]["id"]]  # the second differs only past the cut
    assert [p.id for p in pairs] == [rows[0]["id"], rows[3]["id"]]
    warn_identical(dropped, [Path("pairs.jsonl")])
    err = capsys.readouterr().err.strip()
    assert err.startswith("warning: pairs.jsonl: dropped 2 pair(s) whose chosen equals rejected")
    assert "square" in err and len(err.splitlines()) == 1
