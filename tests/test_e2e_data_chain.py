"""The whole model-centric data chain on CPU, through the real CLI and MLflow store:

raw files -> curate run -> teacher labels -> regression-head scorer -> scored and gated
dataset -> tokenizer -> packed shards, then ``codekiln lineage show`` on the shards walks
back to the raw files. The only stand-in is the teacher LLM (a hosted API in real use): a
local HTTP server speaking the OpenAI chat API, rating files by a fixed, documented rule.
"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow


@pytest.fixture
def raw_corpus(tmp_path: Path) -> Path:
    """60 real standard-library modules, as a user's raw source tree."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path / "raw"
    root.mkdir()
    picked = [p for p in sorted(stdlib.glob("*.py")) if 2_000 < p.stat().st_size < 40_000][:60]
    for path in picked:
        shutil.copy(path, root / path.name)
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run one codekiln command in-process; return its MLflow run id."""
    assert main(list(args)) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    return [line.split()[-1] for line in out.splitlines() if line.startswith("mlflow run:")][-1]


def test_labels_scorer_scored_shards_walk_back_to_raw(
    raw_corpus: Path, tmp_path: Path, mlflow_store: str, documented_teacher_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = tmp_path / "curate.yaml"
    recipe.write_text(
        f"inputs:\n  - kind: dir\n    path: {raw_corpus}\noutput: {tmp_path / 'curated'}\n"
        "stages:\n  - name: exact-dedup\n  - name: language-id\n", encoding="utf-8")
    curated, labels, scorer = tmp_path / "curated", tmp_path / "labels", tmp_path / "scorer"
    scored, tok, shards = tmp_path / "scored", tmp_path / "tok", tmp_path / "shards"

    run_cli(capsys, "curate", "run", str(recipe), "--quiet")
    run_cli(capsys, "curate", "label", str(curated), "--output", str(labels),
            "--set", f"teacher.base_url={documented_teacher_url}", "--set", "teacher.model=teacher",
            "--set", "sampling.languages=[python]")
    run_cli(capsys, "train", "scorer", str(labels), "--output", str(scorer), "--device", "cpu",
            "--threads", "1", "--set", "max_tokens=128", "--set", "epochs=2",
            "--set", "tokenizer_vocab=512")
    run_cli(capsys, "curate", "score", str(curated), "--model", str(scorer),
            "--output", str(scored), "--drop-percentile", "10", "--device", "cpu")
    run_cli(capsys, "curate", "tokenizer", "train", str(scored), "--vocab-size", "600",
            "--output", str(tok))
    shards_run = run_cli(capsys, "curate", "shards", str(scored), "--tokenizer", str(tok),
                         "--seq-len", "256", "--fim-rate", "0.5", "--output", str(shards))

    import pyarrow.parquet as pq

    kept = pq.read_table(sorted((scored / "data").glob("*.parquet"))).num_rows
    dropped = pq.read_table(sorted((scored / "dropped").glob("*.parquet"))).num_rows
    assert kept + dropped == 60 and 0 < dropped < 60  # the bottom-10% gate dropped some

    from codekiln_core.lineage.chain import walk_chain

    chain = walk_chain(shards_run)
    commands = [run.command for run in chain.runs]
    assert commands[0] == "curate.shards"
    for upstream in ("curate.score", "train.scorer", "curate.label", "curate.run",
                     "curate.tokenizer.train"):
        assert upstream in commands, f"{upstream} missing from {commands}"
    assert str(raw_corpus.resolve()) in {raw.source for raw in chain.raw_inputs}

    assert main(["lineage", "show", shards_run]) == 0
    shown = capsys.readouterr().out
    assert shown.index("curate.shards") < shown.index("train.scorer") < shown.index("raw inputs:")
