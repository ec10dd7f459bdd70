"""SFT then DPO on codekiln-train's engine from the tiny pretrained model; each registers a
model version, and `codekiln lineage show` walks from the DPO version back to the raw file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_posttrain.dpo_run import run_dpo
from codekiln_posttrain.recipe import DpoRecipe, SftRecipe
from codekiln_posttrain.sft import run_sft

from .conftest import decontam_section, preference_rows, pretrained_model, sft_rows, write_jsonl

pytestmark = pytest.mark.slow

TINY_ENGINE = {"micro_batch_size": 2, "gradient_accumulation_steps": 1, "lr": 1e-3}


@pytest.fixture(autouse=True)
def _env() -> None:
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", "/work/cache/torch_extensions")
    import torch

    torch.set_num_threads(1)


def test_sft_then_dpo_register_versions_linked_to_the_raw_files(
        tmp_path: Path, tokenizer_dir: Path, mlflow_store: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    base = pretrained_model(tmp_path, tokenizer_dir, lineage=True)
    sft_data = write_jsonl(tmp_path / "sft.jsonl", sft_rows() * 2)
    sft = run_sft(SftRecipe(model=str(base), data=sft_data, output=tmp_path / "sft",
                            register_as="tiny-instruct-sft", max_seq_len=512, epochs=2,
                            decontamination=decontam_section(), engine=TINY_ENGINE))
    assert sft.steps >= 2 and sft.final_loss == sft.final_loss  # a number, not NaN
    assert sft.conversations == 8 and sft.sequences < 8  # packing put several in a sequence
    assert sft.model_uri == "models:/tiny-instruct-sft/1"

    pairs = write_jsonl(tmp_path / "pairs.jsonl", preference_rows())
    dpo = run_dpo(DpoRecipe(model=sft.model_dir, data=pairs, output=tmp_path / "dpo",
                            register_as="tiny-instruct", max_seq_len=256, max_steps=2,
                            decontamination=decontam_section(), engine=TINY_ENGINE))
    assert dpo.steps == 2 and dpo.pairs == 4
    assert (tmp_path / "dpo" / "reference_logps.jsonl").is_file()
    assert dpo.model_uri == "models:/tiny-instruct/1"

    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(dpo.model_dir)  # loads without codekiln
    assert AutoTokenizer.from_pretrained(dpo.model_dir).chat_template

    capsys.readouterr()
    assert main(["lineage", "show", "models:/tiny-instruct/1"]) == 0
    shown = capsys.readouterr().out
    order = [shown.index(c) for c in ("posttrain.dpo", "posttrain.sft", "train.pretrain")]
    assert order == sorted(order), shown
    assert "raw-code" in shown and "corpus.py" in shown
