"""Scoring with a real tiny scorer: the stage, the engine, `codekiln curate score` (gate,
determinism, no lost files) and the lineage chain labels -> scorer -> scored dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.stages import build_stage
from codekiln_curate.stages.quality_score import QualityScoreOptions, QualityScoreStage

from .conftest import curate, stdlib_heads, train_cli, variants, write_corpus, write_labels

pytestmark = pytest.mark.slow


def unseen_docs() -> list[dict[str, str]]:
    return [{"language": lang, "path": rel, "content": content}
            for name, code in stdlib_heads(8, skip=90) for lang, rel, content in
            variants(name, code)]


def test_stage_batches_keep_input_order_and_match_single_docs(tiny_scorer_dir: Path) -> None:
    stage = QualityScoreStage(QualityScoreOptions(model=str(tiny_scorer_dir), batch_size=4,
                                              device="cpu"))
    docs = unseen_docs()
    batched = [row["quality_score"] for row in stage.signals_batch(docs)]
    single = [stage.signals(doc)["quality_score"] for doc in docs]
    assert all(0.0 <= s <= 10.0 for s in batched)
    assert batched == pytest.approx(single, abs=1e-3)
    code = [s for s, d in zip(batched, docs, strict=True) if d["path"].startswith("lib/")]
    data = [s for s, d in zip(batched, docs, strict=True) if d["path"].startswith("data/")]
    assert sum(code) / len(code) > sum(data) / len(data) + 2  # unseen modules, same ranking


def test_stage_truncates_to_max_tokens(tiny_scorer_dir: Path) -> None:
    stage = QualityScoreStage(QualityScoreOptions(model=str(tiny_scorer_dir), max_tokens=16,
                                              device="cpu"))
    doc = unseen_docs()[0]
    stage.signals(doc)
    assert max(map(len, stage.model.encode([doc]))) == 16


def test_long_files_are_cut_before_tokenizing_without_changing_the_window(
        tiny_scorer_dir: Path) -> None:
    stage = QualityScoreStage(QualityScoreOptions(model=str(tiny_scorer_dir), max_tokens=64,
                                              device="cpu"))
    doc = unseen_docs()[0]
    long = {**doc, "content": doc["content"] * 200}  # far past the model's 64-token window
    stage.signals(long)
    model = stage.model
    whole = model.meta["input_template"].replace("{language}", long["language"]).replace(
        "{content}", long["content"])
    assert model._content_cut() < len(long["content"])
    expected = model._tokenizer([whole], truncation=True, max_length=64)["input_ids"]
    assert model.encode([long]) == [list(expected[0])]


def test_stage_options_are_checked_before_loading(tmp_path: Path,
                                                  tiny_scorer_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no such directory"):
        QualityScoreStage(QualityScoreOptions(model=str(tmp_path / "missing")))
    with pytest.raises(ConfigError, match=r"options.dtype' = 'int8': .*'bfloat16'"):
        build_stage(QualityScoreStage, {"model": str(tiny_scorer_dir), "dtype": "int8"},
                    source="r.yaml", key="stages[0].options")


def test_stage_runs_in_a_curate_recipe_with_an_absolute_gate(
        tiny_scorer_dir: Path, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", count=4)
    out = curate(corpus, tmp_path / "out", [
        {"name": "language-id"},
        {"name": "quality-score", "options": {"model": str(tiny_scorer_dir), "device": "cpu"},
         "gates": [{"signal": "quality_score", "min": 5.0}]}])
    kept = [row for part in sorted((out / "data").glob("*.parquet"))
            for row in pq.read_table(part).to_pylist()]
    dropped = [row for part in sorted((out / "dropped").glob("*.parquet"))
               for row in pq.read_table(part).to_pylist()]
    assert len(kept) + len(dropped) == 12
    assert all(row["quality_score"] >= 5.0 for row in kept)
    assert {row["drop_reason"] for row in dropped} <= {"quality_score_below_min"}
    assert any("/lib/" in row["path"] for row in kept)


def read_rows(out: Path, sub: str) -> list[dict[str, object]]:
    return [row for part in sorted((out / sub).glob("*.parquet"))
            for row in pq.read_table(part).to_pylist()]


def test_score_command_drops_the_bottom_tenth_deterministically(
        tiny_scorer_dir: Path, curated_dataset: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    outs = [tmp_path / "one", tmp_path / "two"]
    for out in outs:
        assert main(["curate", "score", str(curated_dataset), "--model", str(tiny_scorer_dir),
                     "--output", str(out), "--device", "cpu", "--batch-size", "5",
                     "--no-lineage"]) == 0
    assert "quality gate" in capsys.readouterr().out
    kept, dropped = read_rows(outs[0], "data"), read_rows(outs[0], "dropped")
    assert len(kept) + len(dropped) == 36 and len(dropped) == 4  # below the 10th percentile
    assert max(r["quality_score"] for r in dropped) < min(r["quality_score"] for r in kept)
    assert {r["drop_stage"] for r in dropped} == {"quality-score"}
    summary = json.loads((outs[0] / "score_summary.json").read_text())
    assert summary["dropped"] == 4 and list(summary["thresholds"]) == ["*"]
    assert (outs[0] / "report.md").read_text().startswith("# Quality scoring")
    assert (outs[0] / "score_histogram.png").read_bytes()[:4] == b"\x89PNG"
    for sub in ("data", "dropped"):
        for part in sorted((outs[0] / sub).glob("*.parquet")):
            assert part.read_bytes() == (outs[1] / sub / part.name).read_bytes()


def test_score_command_absolute_and_per_language_gates(
        tiny_scorer_dir: Path, curated_dataset: Path, tmp_path: Path) -> None:
    base = ["curate", "score", str(curated_dataset), "--model", str(tiny_scorer_dir),
            "--device", "cpu", "--no-lineage", "--output"]
    assert main([*base, str(tmp_path / "abs"), "--min-score", "5"]) == 0
    assert all(r["quality_score"] >= 5 for r in read_rows(tmp_path / "abs", "data"))
    assert all(r["quality_score"] < 5 for r in read_rows(tmp_path / "abs", "dropped"))
    assert main([*base, str(tmp_path / "lang"), "--drop-percentile", "25",
                 "--per-language"]) == 0
    summary = json.loads((tmp_path / "lang" / "score_summary.json").read_text())
    assert set(summary["thresholds"]) == {"json", "python"}
    assert summary["per_language"]["json"]["dropped"] == 3   # 25% of 12
    assert summary["per_language"]["python"]["dropped"] == 6  # 25% of 24


@pytest.mark.parametrize(("extra", "needle"), [
    (["--min-score", "3", "--drop-percentile", "5"], "exclude each other"),
    (["--min-score", "11"], "less than or equal to 10"),
    (["--model", "NOPE"], "NOPE"),
])
def test_score_command_bad_options_are_one_line_errors(
        tiny_scorer_dir: Path, curated_dataset: Path, tmp_path: Path, extra: list[str],
        needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    model = ["--model", str(tiny_scorer_dir)] if "--model" not in extra else []
    code = main(["curate", "score", str(curated_dataset), *model, "--output",
                 str(tmp_path / "o"), "--no-lineage", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and needle in err, err


def test_lineage_walks_from_scored_data_back_to_labels_and_raw_code(
        mlflow_store: str, tmp_path: Path) -> None:
    from codekiln_core.lineage import lineage_run, read_marker
    from codekiln_core.lineage.chain import walk_chain

    labels = write_labels(tmp_path / "labels", 20)
    with lineage_run("curate.label", config={"teacher": "test"}) as label_run:
        label_run.log_output(labels, name="labels")
    train_cli(labels, tmp_path / "scorer", "--set", "epochs=1")
    curated = curate(write_corpus(tmp_path / "corpus", count=4), tmp_path / "curated",
                     [{"name": "language-id"}], lineage=True)
    scored = tmp_path / "scored"
    assert main(["curate", "score", str(curated), "--model", str(tmp_path / "scorer"),
                 "--output", str(scored), "--device", "cpu"]) == 0
    marker = read_marker(scored)
    assert marker is not None
    chain = walk_chain(marker["run_id"])
    commands = sorted(node.command for node in chain.runs)
    assert commands == ["curate.label", "curate.run", "curate.score", "train.scorer"]
    from mlflow import MlflowClient

    client = MlflowClient()
    logged = {a.path for a in client.list_artifacts(marker["run_id"], "report")}
    assert {"report/report.md", "report/score_histogram.png",
            "report/score_summary.json"} <= logged
    # The histogram's data, before the gate (all files) and after it (the kept ones).
    from codekiln_core.testing import png_size

    assert png_size(Path(client.download_artifacts(
        marker["run_id"], "report/score_histogram.png", str(tmp_path))))[0] >= 300
    summary = json.loads(Path(client.download_artifacts(
        marker["run_id"], "report/score_summary.json", str(tmp_path))).read_text())
    before, after = summary["histogram"], summary["histogram_kept"]
    assert sum(before) == summary["files"] == 12 and sum(after) == summary["kept"]
    assert all(k <= n for k, n in zip(after, before, strict=True)) and after != before
    kept_scores = [r["quality_score"] for r in read_rows(scored, "data")]
    assert after == [sum(min(9, int(s)) == b for s in kept_scores) for b in range(10)]
    assert any(str(tmp_path / "corpus") in link.source for link in chain.raw_inputs)


def test_force_replaces_only_after_a_successful_run(
        tiny_scorer_dir: Path, curated_dataset: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scored"
    out.mkdir()
    (out / "old.txt").write_text("previous output")
    bad = ["curate", "score", str(curated_dataset), "--model", str(tiny_scorer_dir),
           "--output", str(out), "--no-lineage", "--force", "--device", "tpu"]
    assert main(bad) == 2 and "tpu" in capsys.readouterr().err
    assert (out / "old.txt").read_text() == "previous output"
    assert main([*bad[:-2], "--device", "cpu"]) == 0
    assert not (out / "old.txt").exists() and (out / "score_summary.json").is_file()


def test_score_command_drops_the_share_asked_when_scores_tie(
        tiny_scorer_dir: Path, tmp_path: Path) -> None:
    """20 copies of one data dump (one score, 20 ids) under 10 code files: the bottom 10% are
    3 of the copies, chosen by id hash (a threshold alone kept all 30: ties were kept)."""
    import hashlib

    import pyarrow as pa

    (name, code), *others = stdlib_heads(11, skip=100)
    dump = variants(name, code)[1][2]
    rows = [{"id": hashlib.sha256(f"copy{i}".encode()).hexdigest(), "path": f"d/{i}.json",
             "language": "json", "content": dump} for i in range(20)]
    rows += [{"id": f"code-{n}", "path": f"lib/{n}", "language": "python", "content": c}
             for n, c in others[:10]]
    data = tmp_path / "in" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows[::2]), data / "part-0.parquet")
    pq.write_table(pa.Table.from_pylist(rows[1::2]), data / "part-1.parquet")
    assert main(["curate", "score", str(tmp_path / "in"), "--model", str(tiny_scorer_dir),
                 "--output", str(tmp_path / "out"), "--device", "cpu", "--no-lineage"]) == 0
    kept, dropped = read_rows(tmp_path / "out", "data"), read_rows(tmp_path / "out", "dropped")
    assert len(dropped) == 3 and len(kept) == 27
    assert {r["content"] for r in dropped} == {dump}
    copies = sorted((r["id"] for r in rows[:20]), key=lambda i: hashlib.sha256(
        i.encode()).hexdigest())
    assert sorted(r["id"] for r in dropped) == sorted(copies[:3])
    code_scores = [r["quality_score"] for r in kept if r["language"] == "python"]
    assert min(code_scores) > dropped[0]["quality_score"]  # the dump really is the bottom
