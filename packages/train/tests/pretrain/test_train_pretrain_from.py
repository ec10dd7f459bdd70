"""Pretraining that continues released weights (``model.from``), on tiny checkpoints laid out
as the Hugging Face Hub serves them: config.json, tokenizer files, bf16 weights in several
safetensors files with their index.

Trained for 0 steps and exported, the model equals its start tensor for tensor under every
ZeRO stage; a hub id resolves from a hub cache (offline) and is the run's lineage input;
Mistral and Qwen2 checkpoints continue too; FIM tokens added to a tokenizer that had none
grow the embedding (mean rows) under ZeRO-3.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.lineage.run import LineageRun

pytestmark = pytest.mark.slow


def released_checkpoint(root: Path, tokenizer_dir: Path, vocab_size: int, *,
                        model_type: str = "llama", tied: bool = False) -> Path:
    """A tiny seeded causal LM of ``model_type`` saved as the hub serves models: bf16
    safetensors split over several files plus index, the tokenizer files beside them."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(
        model_type, vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, rope_theta=500_000.0, tie_word_embeddings=tied,
        bos_token_id=0, eos_token_id=2, pad_token_id=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(str(root), max_shard_size="40KB")
    for item in tokenizer_dir.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, root / item.name)
    return root


def weights(directory: Path) -> dict[str, Any]:
    """Every tensor of a checkpoint directory, whatever its sharding."""
    from safetensors.torch import load_file

    found: dict[str, Any] = {}
    for file in sorted(directory.glob("*.safetensors")):
        found.update(load_file(str(file)))
    return found


def continue_recipe(start: str, shards: Any, output: Path, *, zero_stage: int = 0,
                    steps: int = 0, **model: Any) -> Any:
    from codekiln_train.recipe import PretrainRecipe

    return PretrainRecipe.model_validate({
        "model": {"from": start, **model},
        "engine": {"zero_stage": zero_stage, "micro_batch_size": 2,
                   "gradient_accumulation_steps": 1, "lr": 1e-3},
        "stages": [{"name": "continued", "mixture": [{"path": str(shards.code),
                                                      "name": "code"}],
                    "validation": str(shards.validation), "steps": steps,
                    "schedule": {"kind": "constant", "warmup_steps": 0}}],
        "log": {"eval_at_start": True, "eval_batches": 2},
        "checkpoint": {"every_steps": 100}, "seed": 0, "output": str(output),
        "device": "cpu", "threads": 1})


def pretrain(recipe: Any) -> Any:
    from codekiln_train.pretrain import run_pretrain

    return run_pretrain(recipe, run=LineageRun(None))


def assert_same_weights(exported: Path, start: Path) -> None:
    import torch

    ours, theirs = weights(exported), weights(start)
    assert set(ours) == set(theirs)
    for name, tensor in theirs.items():  # the start is bf16; the CPU engine trains in fp32
        assert torch.equal(ours[name], tensor.float()), name


@pytest.fixture(scope="module")
def hub_files(tiny_shards: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("released") / "tiny-seed-coder"
    checkpoint = released_checkpoint(root, tiny_shards.tokenizer, tiny_shards.vocab_size)
    assert len(list(checkpoint.glob("model-*.safetensors"))) > 1
    assert (checkpoint / "model.safetensors.index.json").is_file()
    return checkpoint


@pytest.mark.parametrize("zero_stage", [0, 1, 2, 3])
def test_zero_steps_export_the_start_weights_exactly(hub_files: Path, tiny_shards: Any,
                                                     tmp_path: Path, zero_stage: int) -> None:
    result = pretrain(continue_recipe(str(hub_files), tiny_shards, tmp_path / "run",
                                      zero_stage=zero_stage))
    assert result.model_dir is not None
    assert_same_weights(result.model_dir, hub_files)
    config = json.loads((result.model_dir / "config.json").read_text())
    start = json.loads((hub_files / "config.json").read_text())
    for key in ("hidden_size", "num_hidden_layers", "num_key_value_heads", "vocab_size",
                "max_position_embeddings", "tie_word_embeddings"):
        assert config[key] == start[key], key
    assert config["fim_layout"] == "spm"  # what the shards taught, for serve and eval
    summary = result.stages[0][1]
    assert summary.steps == 0 and summary.initial_val_loss == summary.final_val_loss
    from transformers import AutoTokenizer  # the tokenizer travelled with the weights

    assert len(AutoTokenizer.from_pretrained(str(result.model_dir))) == tiny_shards.vocab_size


def test_a_hub_id_loads_from_the_hub_cache_and_is_the_lineage_input(
        hub_files: Path, tiny_shards: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from codekiln_core.testing import hub_cache_layout
    from codekiln_train.commands.pretrain import pretrain_inputs

    snapshot = hub_cache_layout(tmp_path / "hub", "tiny-org/tiny-seed-coder", hub_files,
                                commit="ab" * 20)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recipe = continue_recipe("tiny-org/tiny-seed-coder", tiny_shards, tmp_path / "run",
                             steps=2)
    refs = pretrain_inputs(recipe)
    assert (refs[0].name, refs[0].source, refs[0].digest) == \
        ("start-model", "hf://tiny-org/tiny-seed-coder", "hf:abababababab")
    assert {ref.name for ref in refs[1:]} == {"continued/code", "continued/validation"}
    result = pretrain(recipe)
    summary = result.stages[0][1]
    assert summary.steps == 2 and summary.initial_val_loss is not None
    assert result.model_dir is not None
    changed = weights(result.model_dir)["model.norm.weight"]
    assert not changed.equal(weights(snapshot)["model.norm.weight"].float())  # it trained


@pytest.mark.parametrize(("model_type", "tied"), [("mistral", True), ("qwen2", False)])
def test_mistral_and_qwen2_checkpoints_continue(tiny_shards: Any, tmp_path: Path,
                                                model_type: str, tied: bool) -> None:
    import math

    start = released_checkpoint(tmp_path / model_type, tiny_shards.tokenizer,
                                tiny_shards.vocab_size, model_type=model_type, tied=tied)
    exact = pretrain(continue_recipe(str(start), tiny_shards, tmp_path / "zero"))
    assert exact.model_dir is not None
    assert_same_weights(exact.model_dir, start)
    trained = pretrain(continue_recipe(str(start), tiny_shards, tmp_path / "two", steps=2,
                                       rope_theta=1_000_000.0))
    summary = trained.stages[0][1]
    assert summary.steps == 2 and all(math.isfinite(loss) for _, loss in summary.losses)
    assert trained.model_dir is not None
    config = json.loads((trained.model_dir / "config.json").read_text())
    assert config["model_type"] == model_type
    assert config["rope_parameters"]["rope_theta"] == 1_000_000.0  # the recipe's θ was set


def _tokenizer_without_fim(directory: Path) -> Path:
    """A real BPE on stdlib code whose only special token is its end of text."""
    import sysconfig

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = [(stdlib / name).read_text(encoding="utf-8") for name in ("colorsys.py",
                                                                     "bisect.py", "heapq.py")]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=512, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    directory.mkdir(parents=True)
    tok.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"eos_token": "<|endoftext|>", "tokenizer_class": "PreTrainedTokenizerFast"}))
    return directory


def test_added_fim_tokens_grow_the_embedding_under_zero3(tmp_path: Path) -> None:
    """`curate tokenizer adopt` adds the sentinels a tokenizer lacks; pretraining from its
    model then grows the embedding and head by those rows, each the mean of the old rows."""
    import sysconfig
    from types import SimpleNamespace

    import torch

    from codekiln_core.cli.app import main

    plain = _tokenizer_without_fim(tmp_path / "plain-tokenizer")
    from tokenizers import Tokenizer

    rows = Tokenizer.from_file(str(plain / "tokenizer.json")).get_vocab_size()  # one per token
    start = released_checkpoint(tmp_path / "no-fim", plain, rows, tied=False)
    assert main(["curate", "tokenizer", "adopt", str(start), "--output",
                 str(tmp_path / "adopted"), "--no-lineage"]) == 0
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in ("colorsys.py", "bisect.py", "heapq.py", "fnmatch.py"):
        shutil.copy2(stdlib / name, corpus / name)
    for name, rate in (("code", "0.5"), ("validation", "0.0")):
        assert main(["curate", "shards", str(corpus), "--tokenizer", str(tmp_path / "adopted"),
                     "--seq-len", "64", "--fim-rate", rate, "--output",
                     str(tmp_path / name), "--no-lineage"]) == 0
    shards = SimpleNamespace(code=tmp_path / "code", validation=tmp_path / "validation")
    result = pretrain(continue_recipe(str(start), shards, tmp_path / "run", zero_stage=3))
    assert result.model_dir is not None
    ours, theirs = weights(result.model_dir), weights(start)
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        grown, old = ours[name], theirs[name].float()
        assert grown.shape[0] == rows + 3
        assert torch.equal(grown[:rows], old)
        assert torch.allclose(grown[rows:], old.mean(dim=0).expand(3, -1))
    assert json.loads((result.model_dir / "config.json").read_text())["vocab_size"] == rows + 3
