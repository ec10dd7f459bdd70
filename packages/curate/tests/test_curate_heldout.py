"""``codekiln curate heldout``: MBPP's non-test solutions, checked against training corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.lineage.run import LineageRun
from codekiln_curate.heldout import HeldoutRecipe, build_heldout, mbpp_documents


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_mbpp_documents_are_the_non_test_splits_with_their_asserts() -> None:
    docs = list(mbpp_documents())
    ids = {int(d.id.split("/")[1]) for d in docs}
    assert len(docs) == 474  # prompt 10 + validation 90 + train 374
    assert ids.isdisjoint(range(11, 511))  # never the test split eval scores
    first = next(d for d in docs if d.id == "mbpp/601")
    assert "def " in first.text and "\nassert " in first.text and "\r" not in first.text
    with pytest.raises(ConfigError, match="test is what eval scores"):
        list(mbpp_documents(["train", "test"]))


def test_overlap_with_training_is_dropped_not_lost(tmp_path: Path) -> None:
    docs = {d.id: d for d in mbpp_documents(["prompt"])}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    copied = docs["mbpp/2"].text.split("\n\n\n")[0]  # task 2's solution inside a training file
    (corpus / "train.jsonl").write_text(
        json.dumps({"id": "leak", "text": "# helper\n" + copied}) + "\n"
        + json.dumps({"id": "clean", "text": "print('unrelated words here')"}) + "\n",
        encoding="utf-8")
    extra = tmp_path / "mine.jsonl"
    extra.write_text(json.dumps({"id": "x", "text": "def mine():\n    return 1\n"}) + "\n",
                     encoding="utf-8")
    recipe = HeldoutRecipe(output=tmp_path / "out", mbpp_split=["prompt"], datasets=[extra],
                           against=[corpus])
    result = build_heldout(recipe, LineageRun(None))
    assert (result.kept, result.dropped, result.scanned) == (10, 1, 2)
    kept = _rows(tmp_path / "out" / "data" / "heldout.jsonl")
    assert "mbpp/2" not in {r["id"] for r in kept}
    assert any(r["id"].endswith("/x") for r in kept)
    dropped = _rows(tmp_path / "out" / "dropped" / "overlap.jsonl")
    assert [r["id"] for r in dropped] == ["mbpp/2"]
    assert dropped[0]["drop_reason"] == "shares a 10-gram with corpus/leak"
    assert dropped[0]["text"] == docs["mbpp/2"].text


def test_cli_refuses_a_non_empty_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x", encoding="utf-8")
    assert main(["curate", "heldout", "--output", str(out), "--no-lineage"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert main(["curate", "heldout", "--output", str(tmp_path / "new"), "--no-lineage",
                 "--mbpp-split", "train,test"]) == 2
    assert "test is what eval scores" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
