"""The tiny recipes through the CLI: the SFT set imported, then SFT then DPO on
codekiln-train's engine from the tiny pretrained model; each registers a model version, each
run records its recipe as written, and `codekiln lineage show` walks from the DPO (Instruct)
version back through SFT, the import and pretraining to the raw file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codekiln_core.cli.app import main

from ..conftest import SHARED_BENCHMARKS, pretrained_model

pytestmark = pytest.mark.slow
RECIPES = Path(__file__).resolve().parents[4] / "recipes"
DECONTAM = [f"decontamination.benchmarks_dir={SHARED_BENCHMARKS}",
            "decontamination.benchmarks=[humaneval, mbpp]"]


def run_recipe(kind: str, model: Path, data: Path, output: Path, *sets: str) -> None:
    argv = ["posttrain", kind, str(RECIPES / f"posttrain-tiny-{kind}.yaml"), str(data),
            "--model", str(model), "--output", str(output)]
    for item in (*DECONTAM, *sets):
        argv += ["--set", item]
    assert main(argv) == 0


def test_tiny_recipes_register_versions_linked_to_the_raw_files(
        tmp_path: Path, tokenizer_dir: Path, mlflow_store: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", "/work/cache/torch_extensions")
    import torch

    torch.set_num_threads(1)
    base = pretrained_model(tmp_path, tokenizer_dir, lineage=True)
    sft_data = tmp_path / "sft-data.jsonl"
    assert main(["posttrain", "data", "import", str(RECIPES / "data" /
                                                    "posttrain-tiny-sft.jsonl"),
                 "--output", str(sft_data)]) == 0
    run_recipe("sft", base, sft_data, tmp_path / "sft", "epochs=1")
    shown = capsys.readouterr().out
    assert "registered: models:/tiny-instruct-sft/1" in shown and "sequences" in shown
    run_recipe("dpo", tmp_path / "sft" / "model", RECIPES / "data" / "posttrain-tiny-pairs.jsonl",
               tmp_path / "dpo", "max_steps=2")
    assert (tmp_path / "dpo" / "reference_logps.jsonl").is_file()
    assert "registered: models:/tiny-instruct/1" in capsys.readouterr().out

    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(str(tmp_path / "dpo" / "model"))  # no codekiln needed
    assert AutoTokenizer.from_pretrained(str(tmp_path / "dpo" / "model")).chat_template

    assert main(["lineage", "show", "models:/tiny-instruct/1"]) == 0
    shown = capsys.readouterr().out
    order = [shown.index(c) for c in ("posttrain.dpo", "posttrain.sft", "train.pretrain")]
    assert order == sorted(order), shown
    assert shown.index("posttrain.sft") < shown.index("posttrain.data.import"), shown
    assert "raw-code" in shown and "corpus.py" in shown

    from mlflow import MlflowClient

    from codekiln_core.lineage.chain import walk_chain
    from codekiln_core.testing import logged_curves

    runs = {r.command: r.run_id for r in walk_chain("models:/tiny-instruct/1").runs}
    for kind in ("sft", "dpo"):  # the recipe as written, beside the resolved config
        recipe = MlflowClient().download_artifacts(
            runs[f"posttrain.{kind}"], f"recipe/posttrain-tiny-{kind}.yaml", str(tmp_path / kind))
        assert Path(recipe).read_text() == (RECIPES / f"posttrain-tiny-{kind}.yaml").read_text()
    # Each training run holds its own curves: loss and learning rate at every logged step.
    dpo = logged_curves(runs["posttrain.dpo"], tmp_path)
    assert [p[0] for p in dpo["loss"]["loss"]] == [1, 2]
    assert [p[0] for p in dpo["learning rate"]["lr"]] == [1, 2]
    sft = logged_curves(runs["posttrain.sft"], tmp_path)
    steps = [p[0] for p in sft["loss"]["loss"]]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 2
    assert [p[0] for p in sft["learning rate"]["lr"]] == steps
    assert sft["loss"]["train_loss"] == [sft["loss"]["loss"][-1]]  # the pipeline's key metric
