"""The real chain: curate run -> tokenizer -> shards, walked back to the raw corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codekiln_core.cli.app import main
from codekiln_core.shards import PackedShards
from codekiln_curate.tokens.dataset import iter_texts, open_dataset
from codekiln_curate.tokens.encode import decode_document
from codekiln_curate.tokens.tokenizer import load_tokenizer, special_ids


@pytest.mark.slow
def test_shards_walk_back_to_the_raw_corpus(tiny_code_corpus: Path, tmp_path: Path,
                                            mlflow_store: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    curated = tmp_path / "curated"
    recipe = tmp_path / "curate.yaml"
    recipe.write_text(yaml.safe_dump({
        "inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}], "output": str(curated),
        "stages": [{"name": "exact-dedup"}]}))
    assert main(["curate", "run", str(recipe), "-q"]) == 0
    curate_run = capsys.readouterr().out.split("mlflow run: ")[-1].split()[0]
    tok, shards = tmp_path / "tok", tmp_path / "shards"
    assert main(["curate", "tokenizer", "train", str(curated), "--vocab-size", "400",
                 "--output", str(tok)]) == 0
    assert main(["curate", "shards", str(curated), "--tokenizer", str(tok), "--seq-len", "64",
                 "--sequences-per-shard", "4", "--output", str(shards)]) == 0
    printed = capsys.readouterr().out
    shards_run = printed.split("mlflow run: ")[-1].split()[0]

    from codekiln_core.lineage.chain import walk_chain

    chain = walk_chain(shards_run)
    commands = [run.command for run in chain.runs]
    assert commands[0] == "curate.shards"
    assert {"curate.tokenizer.train", "curate.run"} <= set(commands)
    assert curate_run in {run.run_id for run in chain.runs}
    assert str(tiny_code_corpus.resolve()) in {raw.source for raw in chain.raw_inputs}
    assert {o.name for o in chain.runs[0].outputs} == {"shards"}

    tokenizer = load_tokenizer(tok)
    specials = special_ids(tokenizer, tok, need_fim=True)
    docs = [decode_document(tokenizer, specials, d) for d in PackedShards(shards).documents()]
    assert docs == [t for texts in iter_texts(open_dataset(curated)) for t in texts]
    assert len(docs) == 9  # every file of the fixture survives exact dedup
