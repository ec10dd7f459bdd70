"""A disk that fills up while checkpointing or exporting: one line, the last checkpoint whole.

The disk is a real tmpfs just large enough for one checkpoint of the tiny model, so torch's
writer fails the way it does on a full cluster disk (a bare ``RuntimeError``, no errno).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from codekiln_core.errors import DiskFullError

pytestmark = pytest.mark.slow


def _engine(standins: ModuleType) -> Any:
    from codekiln_train.engine.deepspeed_engine import Engine

    return Engine.build(standins.tiny_model(), standins.EngineStandin(), lr_lambda=lambda s: 1.0,
                        seq_len=standins.SEQ_LEN, device="cpu")


def _train_one_step(engine: Any, standins: ModuleType) -> None:
    batch = standins.CountingSource(micro_batch_size=2).next_batch()
    for _ in range(engine.gradient_accumulation_steps):
        engine.backward(engine.wrapped(input_ids=batch["input_ids"],
                                       labels=batch["labels"]).loss)
    engine.step()


def test_full_disk_while_checkpointing_keeps_the_last_checkpoint(standins: ModuleType,
                                                                 small_disk: Any,
                                                                 tmp_path: Path) -> None:
    import torch

    from codekiln_core.disk import tree_bytes
    from codekiln_train.checkpoint import complete_checkpoints, step_dir

    engine = _engine(standins)
    _train_one_step(engine, standins)
    engine.save(tmp_path / "probe", {"step": 1})  # how large one checkpoint is
    root = small_disk(tree_bytes(tmp_path / "probe") * 3 // 2) / "checkpoints"  # one fits
    engine.save(step_dir(root, 1), {"step": 1})
    saved = {k: v.clone() for k, v in engine.module.state_dict().items()}
    _train_one_step(engine, standins)
    with pytest.raises(DiskFullError) as caught:
        engine.save(step_dir(root, 2), {"step": 2})
    message = str(caught.value)
    size = tree_bytes(step_dir(root, 1))
    assert "\n" not in message
    assert message.startswith(f"disk full: writing {step_dir(root, 2)} needs about ")
    assert f"({size} bytes)" in message  # estimated from the checkpoint before it

    assert [step for step, _ in complete_checkpoints(root)] == [1]
    assert sorted(p.name for p in root.iterdir()) == [step_dir(root, 1).name]  # no temp left
    assert engine.load(step_dir(root, 1)) == {"step": 1}  # back from step 2 to step 1
    for name, value in engine.module.state_dict().items():
        assert torch.equal(value, saved[name]), name


def test_full_disk_while_exporting_names_the_model_bytes(standins: ModuleType, small_disk: Any,
                                                        tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    from codekiln_train.export import export_hf

    tokenizer_dir = tmp_path / "tokenizer"
    vocab = {"<unk>": 0, "<pad>": 1, "</s>": 2}
    PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, "<unk>")),
                            eos_token="</s>", pad_token="<pad>").save_pretrained(tokenizer_dir)
    model = standins.tiny_model()
    weights = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    out = small_disk(64 * 1024) / "hf"
    with pytest.raises(DiskFullError, match=rf"disk full: writing {out} needs about .* "
                                            rf"\({weights} bytes\)"):
        export_hf(model, tokenizer_dir=tokenizer_dir, out_dir=out, bos_token_id=0,
                  eos_token_id=2, pad_token_id=1)
    assert not any(out.parent.iterdir())
