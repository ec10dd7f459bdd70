"""Deliverable 5: the other stages use `codekiln serve` as their model endpoint, through their
CLIs only — `codekiln eval run -m http://...` and `codekiln curate label` with the server as
teacher. The model is a tiny random Llama, so scores are meaningless; what is checked is
that every request is served and every answer lands where the stage puts it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import codekiln_benchmark_data
from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow

DATA = codekiln_benchmark_data.root()  # the bundled copies, in the codekiln-benchmark-data layout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, object]]:
    from codekiln_serve.settings import ServeSettings
    from codekiln_serve.testing import ServerThread, build_tiny_model

    # long context: HumanEval prompts and the labeling rubric are long in a 512-token vocab
    model = build_tiny_model(tmp_path_factory.mktemp("integration") / "teacher",
                             max_position_embeddings=8192)
    settings = ServeSettings(model=str(model), engine="transformers", port=0, lineage=False,
                             threads=1)
    with ServerThread(settings) as srv:
        yield srv.base_url, srv.built.names[0], srv.built.engine


@pytest.mark.sandbox
def test_eval_run_against_the_server(served: tuple[str, str, object], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    url, _name, engine = served
    before = engine.stats.finished_sequences  # type: ignore[attr-defined]
    out = tmp_path / "eval"
    code = main(["eval", "run", "-b", "humaneval", "-m", url, "--data", str(DATA),
                 "--limit", "2", "-n", "2", "-k", "1", "--max-tokens", "8", "--mode",
                 "completion", "--calibrate", "probe", "--workers", "1", "--no-lineage",
                 "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_tasks_complete"] == 2 and summary["model"] == url
    assert engine.stats.finished_sequences - before >= 4  # type: ignore[attr-defined]


@pytest.mark.sandbox
@pytest.mark.parametrize("fim_api", ["completions", "infill"])
def test_eval_fim_against_the_server(served: tuple[str, str, object], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str], fim_api: str) -> None:
    """`codekiln eval run --mode fim` on both of the server's FIM routes: every task is
    answered, and the summary records the server's layout."""
    url, _name, engine = served
    stats = engine.stats  # type: ignore[attr-defined]
    before = stats.finished_sequences + stats.cancelled_sequences  # a "\n" stop cancels
    out = tmp_path / "eval"
    code = main(["eval", "run", "-b", "humaneval-infill-single-line", "-m", url, "--data",
                 str(DATA), "--limit", "3", "-n", "1", "--max-tokens", "8", "--mode", "fim",
                 "--fim-api", fim_api, "--calibrate", "probe", "--workers", "1",
                 "--no-lineage", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "exact match" in captured.out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_tasks_complete"] == 3 and summary["fim"]["layout"] == "spm"
    assert summary["fim"]["applied_by"].endswith("/infill" if fim_api == "infill"
                                                 else "/v1/completions (suffix)")
    assert stats.finished_sequences + stats.cancelled_sequences - before >= 3


def test_curate_label_with_the_server_as_teacher(served: tuple[str, str, object],
                                                 tiny_code_corpus: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    url, name, engine = served
    before = engine.stats.finished_sequences  # type: ignore[attr-defined]
    out = tmp_path / "labels"
    code = main(["curate", "label", str(tiny_code_corpus), "--output", str(out), "--no-lineage",
                 "--set", f"teacher.base_url={url}/v1", "--set", f"teacher.model={name}",
                 "--set", "teacher.max_tokens=12", "--set", "teacher.concurrency=4",
                 "--set", "sampling.max_chars=1500"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    answered = sum(pq.read_table(p).num_rows for p in out.glob("*.parquet")
                   if p.name in ("labels.parquet", "unparsable.parquet"))
    asked = engine.stats.finished_sequences - before  # type: ignore[attr-defined]
    assert asked >= 5 and answered == asked  # every file asked was answered and recorded
