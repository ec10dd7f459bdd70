"""Export: a ZeRO-3-trained model becomes a plain HF checkpoint with the same logits, readable
by other users (safetensors alone would write it 0600)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _engine_settings() -> Any:
    from codekiln_train.recipe import EngineConfig

    return EngineConfig(zero_stage=3, precision="fp32", micro_batch_size=2,
                        gradient_accumulation_steps=1, activation_checkpointing=True, lr=1e-2)


def test_export_loads_without_codekiln_with_equal_logits(tiny_shards: Any,
                                                          tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codekiln_core.special_tokens import EOS
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.export import export_hf
    from codekiln_train.models import build_model, resolve_model_config

    torch.set_num_threads(1)
    model = build_model(resolve_model_config("tiny", {"num_hidden_layers": 2}),
                        vocab_size=tiny_shards.vocab_size, bos_token_id=0, eos_token_id=2,
                        pad_token_id=1)
    engine = Engine.build(model, _engine_settings(), lr_lambda=lambda s: 1.0, seq_len=16,
                          device="cpu")
    ids = torch.randint(3, tiny_shards.vocab_size, (2, 16), generator=torch.Generator()
                        .manual_seed(0))
    for _ in range(2):  # move the weights away from their init
        engine.backward(engine.wrapped(input_ids=ids, labels=ids).loss)
        engine.step()
    assert any(hasattr(p, "ds_id") for p in engine.module.parameters())  # really ZeRO-3
    engine.train(False)
    with torch.no_grad():
        trained = engine.wrapped(input_ids=ids).logits.float()

    previous_umask = os.umask(0o022)
    try:
        out = export_hf(engine.module, tokenizer_dir=tiny_shards.tokenizer,
                        out_dir=tmp_path / "hf", bos_token_id=0, eos_token_id=2, pad_token_id=1)
    finally:
        os.umask(previous_umask)
    # Readable by a serving account: what open()/mkdir give under umask 022 (not safetensors'
    # private 0600).
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [out, *out.iterdir()]}
    assert modes.pop("hf") == 0o755 and set(modes.values()) == {0o644}, modes
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "generation_config.json",
            "tokenizer.json", "tokenizer_config.json"} <= names
    generation = json.loads((out / "generation_config.json").read_text())
    assert (generation["bos_token_id"], generation["eos_token_id"]) == (0, 2)

    loaded = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32).eval()
    assert "codekiln" not in type(loaded).__module__
    with torch.no_grad():
        exported = loaded(input_ids=ids).logits.float()
    assert float((exported - trained).abs().max()) <= 1e-5
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    assert tokenizer.eos_token == EOS and tokenizer.convert_tokens_to_ids(EOS) == 2


def test_export_refuses_a_directory_without_tokenizer(tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError
    from codekiln_train.export import export_hf

    with pytest.raises(ConfigError, match=r"no tokenizer\.json"):
        export_hf(object(), tokenizer_dir=tmp_path, out_dir=tmp_path / "x",  # type: ignore[arg-type]
                  bos_token_id=0, eos_token_id=2)
