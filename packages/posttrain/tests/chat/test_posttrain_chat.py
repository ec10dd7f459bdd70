"""Chat data: the template's assistant tokens are the loss tokens, packing keeps documents
apart, datasets validate with one-line errors, decontamination drops benchmark copies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.datasets import read_rows, write_rows
from codekiln_posttrain.chat.decontam import DecontamConfig, checked_rows
from codekiln_posttrain.chat.template import encode_conversation, render

from ..conftest import SHARED_BENCHMARKS, decontam_section, sft_rows, tiny_model


def test_loss_tokens_are_exactly_the_assistant_turns(tokenizer: Any) -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "A1"},
                {"role": "user", "content": "more"}, {"role": "assistant", "content": " B2 "}]
    encoded = encode_conversation(tokenizer, messages)
    learned = tokenizer.decode([t for t, m in zip(encoded.input_ids, encoded.loss_mask,
                                                  strict=True) if m])
    assert learned == "A1<[end▁of▁sentence]>B2<[end▁of▁sentence]>"
    assert tokenizer.decode(encoded.input_ids) == render(tokenizer, messages)
    assert "You are an AI programming assistant" in render(tokenizer, messages)


@pytest.mark.parametrize("attention", ["sdpa", "sdpa_documents"])
def test_packed_batch_equals_separate_documents(tokenizer: Any, attention: str) -> None:
    """With SDPA's block-diagonal mask, and with SFT's own document-by-document attention
    (no mask: the flattened row's restarting positions say where conversations begin)."""
    import torch

    from codekiln_posttrain.sft import encode_all, pack, packed_collate
    from codekiln_train.models.document_attention import register

    register()
    encoded, _ = encode_all(tokenizer, sft_rows()[:2], 512)
    sequences = pack(encoded, 512)
    assert len(sequences) == 1 and len(sequences[0]) == 2
    batch = packed_collate(512, tokenizer.pad_token_id, attention)(sequences)
    assert ("attention_mask" in batch) == (attention == "sdpa")
    model = tiny_model(len(tokenizer)).eval()
    with torch.no_grad():
        model.set_attn_implementation(attention)
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        packed = model(**inputs).logits[0]
        model.set_attn_implementation("sdpa")
        at = 0
        for doc in sequences[0]:
            alone = model(input_ids=torch.tensor([doc.input_ids])).logits[0]
            torch.testing.assert_close(packed[at:at + len(doc)], alone, atol=1e-5, rtol=1e-4)
            labels = batch["labels"][0, at:at + len(doc)]
            expected = [t if m else -100 for t, m in zip(doc.input_ids, doc.loss_mask,
                                                         strict=True)]
            expected[0] = -100
            assert labels.tolist() == expected
            at += len(doc)


def test_dataset_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}]}) + "\n")
    with pytest.raises(ConfigError, match=r"d.jsonl:1: no assistant turn"):
        read_rows(path, "sft")
    path.write_text(json.dumps({"messages": [{"role": "bot", "content": "q"}]}) + "\n")
    with pytest.raises(ConfigError, match="role 'bot'"):
        read_rows(path, "sft")
    rows = sft_rows()
    assert write_rows(tmp_path / "d.parquet", rows) == len(rows)
    assert [r["id"] for r in read_rows(tmp_path / "d.parquet", "sft")] == [r["id"] for r in rows]


def test_decontamination_drops_benchmark_copies_but_allows_mbpp_train() -> None:
    import gzip

    with gzip.open(SHARED_BENCHMARKS / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        problem = json.loads(fh.readline())
    mbpp = [json.loads(line) for line in (SHARED_BENCHMARKS / "mbpp" / "mbpp.jsonl").open()]
    train_item = next(r for r in mbpp if r["task_id"] == 700)
    test_item = next(r for r in mbpp if r["task_id"] == 100)

    def row(i: str, text: str) -> dict[str, Any]:
        return {"id": i, "messages": [{"role": "user", "content": "solve"},
                                      {"role": "assistant", "content": text}]}

    rows = [row("he", problem["prompt"] + problem["canonical_solution"]),
            row("mbpp-train", train_item["text"] + "\n" + train_item["code"]),
            row("mbpp-test", test_item["text"] + "\n" + test_item["code"]),
            *sft_rows()]
    kept, report = checked_rows(rows, DecontamConfig(**decontam_section()))
    assert {"he", "mbpp-test"} == set(report.hits)
    assert "humaneval/HumanEval/0" in report.hits["he"]
    assert [r["id"] for r in kept] == ["mbpp-train"] + [r["id"] for r in sft_rows()]
    with pytest.raises(ConfigError, match="found no benchmark texts"):
        checked_rows(rows, DecontamConfig(benchmarks_dir=SHARED_BENCHMARKS, benchmarks=["none"]))
