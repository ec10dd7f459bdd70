"""DeepSpeed config, accumulation and parameter groups from the engine section (no torch)."""

from __future__ import annotations

from types import ModuleType

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.engine.config import accumulation_steps, deepspeed_config, resolve_precision


def test_global_batch_tokens_sets_accumulation(standins: ModuleType) -> None:
    settings = standins.EngineStandin(micro_batch_size=2, global_batch_tokens=2 * 32 * 4 * 2)
    assert accumulation_steps(settings, seq_len=32, world_size=2) == 4
    assert accumulation_steps(settings, seq_len=32, world_size=1) == 8


def test_indivisible_global_batch_is_one_line_error(standins: ModuleType) -> None:
    settings = standins.EngineStandin(micro_batch_size=2, global_batch_tokens=1000)
    with pytest.raises(ConfigError, match=r"global_batch_tokens=1000 .* use 960 or 1024"):
        accumulation_steps(settings, seq_len=32, world_size=1)


def test_fixed_accumulation_when_no_token_budget(standins: ModuleType) -> None:
    settings = standins.EngineStandin(gradient_accumulation_steps=3)
    assert accumulation_steps(settings, seq_len=32, world_size=4) == 3


@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_zero_stage_and_batch_in_deepspeed_config(standins: ModuleType, stage: int) -> None:
    settings = standins.EngineStandin(zero_stage=stage, micro_batch_size=4, grad_clip=0.5)
    config = deepspeed_config(settings, precision="bf16", gradient_accumulation=2,
                              world_size=8, clip_in_deepspeed=True)
    assert config["zero_optimization"]["stage"] == stage
    assert config["train_batch_size"] == 4 * 2 * 8
    assert config["bf16"] == {"enabled": True}
    assert config["gradient_clipping"] == 0.5
    assert "optimizer" not in config  # a torch AdamW is passed in: no fused_adam JIT build
    assert (stage == 3) == ("stage3_gather_16bit_weights_on_model_save"
                            in config["zero_optimization"])


def test_precision_auto_is_bf16_on_gpu_fp32_on_cpu() -> None:
    assert resolve_precision("auto", "cuda") == "bf16"
    assert resolve_precision("auto", "cpu") == "fp32"
    with pytest.raises(ConfigError, match="bf16 needs a GPU"):
        resolve_precision("bf16", "cpu")


def test_no_weight_decay_on_norms_and_biases(standins: ModuleType) -> None:
    from codekiln_train.engine.config import param_groups

    model = standins.tiny_model()
    decay, plain = param_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all("norm" in names[id(p)] for p in plain["params"])
    assert not any("norm" in names[id(p)] for p in decay["params"])
    assert len(decay["params"]) + len(plain["params"]) == len(list(model.parameters()))
