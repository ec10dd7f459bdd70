"""Raw files to a registered pretrained model and back, through the real CLI and MLflow store.

raw corpus -> curate run -> tokenizer train -> shards -> train pretrain --register tiny-base
-> lineage show models:/tiny-base/1 reaches the raw corpus; train export releases the
version as a plain Hugging Face directory.
"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest
import yaml

from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0, capsys.readouterr().err[-3000:]
    return capsys.readouterr().out


def test_registered_pretrained_model_walks_back_to_raw_files(
    tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str],
) -> None:
    import torch

    torch.set_num_threads(1)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in [p for p in sorted(stdlib.glob("*.py")) if 3_000 < p.stat().st_size < 30_000][:40]:
        shutil.copy(path, raw / path.name)
    curate = tmp_path / "curate.yaml"
    curate.write_text(yaml.safe_dump({
        "inputs": [{"kind": "dir", "path": str(raw)}], "output": str(tmp_path / "curated"),
        "stages": [{"name": "exact-dedup"}, {"name": "language-id"}]}), encoding="utf-8")
    run_cli(capsys, "curate", "run", str(curate), "--quiet")
    run_cli(capsys, "curate", "tokenizer", "train", str(tmp_path / "curated"),
            "--vocab-size", "600", "--output", str(tmp_path / "tok"))
    run_cli(capsys, "curate", "shards", str(tmp_path / "curated"), "--tokenizer",
            str(tmp_path / "tok"), "--seq-len", "128", "--fim-rate", "0.5",
            "--output", str(tmp_path / "shards"))

    recipe = tmp_path / "pretrain.yaml"
    recipe.write_text(yaml.safe_dump({
        "model": {"preset": "tiny", "num_hidden_layers": 2},
        "engine": {"micro_batch_size": 4, "lr": 3e-3},
        "stages": [{"name": "regular", "steps": 6,
                    "mixture": [{"path": str(tmp_path / "shards"), "name": "code"}],
                    "schedule": {"kind": "wsd", "warmup_steps": 1}}],
        "checkpoint": {"every_steps": 3}, "log": {"every_steps": 2},
        "output": str(tmp_path / "run")}), encoding="utf-8")
    out = run_cli(capsys, "train", "pretrain", str(recipe), "--register", "tiny-base",
                  "--threads", "1")
    assert "registered: models:/tiny-base/1" in out

    from codekiln_core.lineage.chain import walk_chain

    chain = walk_chain("models:/tiny-base/1")
    commands = [run.command for run in chain.runs]
    assert commands[0] == "train.pretrain"
    for upstream in ("curate.shards", "curate.tokenizer.train", "curate.run"):
        assert upstream in commands, f"{upstream} missing from {commands}"
    assert str(raw.resolve()) in {item.source for item in chain.raw_inputs}
    shown = run_cli(capsys, "lineage", "show", "models:/tiny-base/1")
    assert shown.index("train.pretrain") < shown.index("curate.shards") < \
        shown.index("raw inputs:")

    release = tmp_path / "release"
    run_cli(capsys, "train", "export", "models:/tiny-base/1", "--output", str(release))
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(release))
    assert model.config.vocab_size >= 600 and (release / "tokenizer.json").is_file()
