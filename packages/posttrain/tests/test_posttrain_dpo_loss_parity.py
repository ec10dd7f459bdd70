"""Sigmoid DPO: loss and gradients equal TRL's DPOTrainer on the same tiny model and pairs,
on TRL's padded batch and on codekiln's own packed one (one row, no padding, attended
sequence by sequence)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from codekiln_posttrain.dpo import Pair, pair_collate
from codekiln_posttrain.dpo_loss import dpo_loss_fn, reference_logps

from .conftest import preference_rows, tiny_model

pytest.importorskip("trl", reason="TRL is a dev dependency (parity tests)")
pytestmark = pytest.mark.slow


def trl_trainer(model: Any, ref: Any, tokenizer: Any, tmp_path: Path, beta: float) -> Any:
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    rows = preference_rows()
    data = Dataset.from_list([{"prompt": r["prompt"],
                               "chosen": [{"role": "assistant", "content": r["chosen"]}],
                               "rejected": [{"role": "assistant", "content": r["rejected"]}]}
                              for r in rows])
    args = DPOConfig(output_dir=str(tmp_path / "trl"), beta=beta, report_to=[],
                     per_device_train_batch_size=len(rows), use_cpu=True, bf16=False,
                     max_length=None, dataloader_num_workers=0, disable_dropout=True)
    return DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=data,
                      processing_class=tokenizer)


def packed(batch: dict[str, Any]) -> dict[str, Any]:
    """TRL's padded rows (chosen, then rejected) as codekiln's packed pair batch."""
    sequences = []
    for ids, real, answer in zip(batch["input_ids"], batch["attention_mask"],
                                 batch["completion_mask"], strict=True):
        tokens, marks = ids[real.bool()].tolist(), answer[real.bool()].tolist()
        start = marks.index(1)
        sequences.append((tokens[:start], tokens[start:]))
    half = len(sequences) // 2
    pairs = [Pair(str(i), sequences[i][0], sequences[i][1], sequences[half + i][1])
             for i in range(half)]
    return pair_collate()(pairs)


def test_loss_and_gradients_match_trl(tokenizer: Any, tmp_path: Path) -> None:
    import torch

    from codekiln_train.models.document_attention import register

    beta = 0.1
    policy = tiny_model(len(tokenizer), seed=1)
    ref = tiny_model(len(tokenizer), seed=2)  # a different reference: ratios are non-zero
    ours = copy.deepcopy(policy)
    ours_packed = copy.deepcopy(policy)
    ours_packed.set_attn_implementation(register())
    trainer = trl_trainer(policy, ref, tokenizer, tmp_path, beta)
    examples = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    batch = trainer.data_collator(examples)
    trl_loss = trainer.compute_loss(trainer.model, dict(batch))
    trl_loss.backward()

    mine: dict[str, torch.Tensor] = {
        "input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
        "labels": batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)}
    ref_chosen, ref_rejected = reference_logps(ref, [mine])
    mine["ref_chosen_logps"] = torch.tensor(ref_chosen)
    mine["ref_rejected_logps"] = torch.tensor(ref_rejected)
    ours.train()
    loss, metrics = dpo_loss_fn(beta)(ours, mine)
    loss.backward()

    assert abs(loss.item() - trl_loss.item()) < 1e-5, (loss.item(), trl_loss.item())
    assert abs(loss.item() - 0.6931) > 1e-3  # the pairs are not trivially tied
    pairs = dict(trainer.model.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, pairs[name].grad, atol=1e-5, rtol=1e-4,
                                   msg=lambda m, n=name: f"{n}: {m}")
    assert 0.0 <= metrics["rewards/accuracies"] <= 1.0

    flat = {**packed(batch), "ref_chosen_logps": mine["ref_chosen_logps"],
            "ref_rejected_logps": mine["ref_rejected_logps"]}
    ours_packed.train()
    loss, packed_metrics = dpo_loss_fn(beta)(ours_packed, flat)
    loss.backward()
    assert abs(loss.item() - trl_loss.item()) < 1e-5, (loss.item(), trl_loss.item())
    assert packed_metrics["rewards/margins"] == pytest.approx(metrics["rewards/margins"],
                                                              abs=1e-5)
    for name, param in ours_packed.named_parameters():
        torch.testing.assert_close(param.grad, pairs[name].grad, atol=1e-5, rtol=1e-4,
                                   msg=lambda m, n=name: f"packed {n}: {m}")
