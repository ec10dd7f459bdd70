"""SFT and DPO step time: codekiln-posttrain (on codekiln-train's DeepSpeed engine) vs TRL
1.16's SFTTrainer / DPOTrainer, on the same tiny Llama, tokenizer and conversations, CPU.

One "step" is forward + backward + AdamW update of one batch holding the same 8
conversations (SFT) or 8 preference pairs (DPO), each side collated as it trains. SFT: ours
packs the conversations best-fit-decreasing into 512-token sequences, laid out as one row
without padding and attended conversation by conversation (``sdpa_documents``); TRL pads
each conversation (prompt-completion format, completion-only loss). DPO: ours packs the 16
prompt + answer sequences into one row without padding (same attention); TRL pads them to
the longest. Both read stored reference log-probs
(TRL's precompute_ref_logps path), so neither runs a reference forward. Steps alternate
(ours, TRL, ours, ...); the ratio is of medians (> 1: ours is faster). Token counts are the
positions each side computes (padding included).

    uv run python benchmarks/posttrain_step_time.py --steps 10
    uv run python benchmarks/posttrain_step_time.py --toy   # one timed step each, seconds
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import parse_args, print_ratio

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "recipes" / "data"


def tokenizer_dir(out: Path) -> Path:
    """A 768-token byte-level BPE with the Seed-Coder specials and chat template."""
    import sysconfig

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from codekiln_core.chat import write_chat_template
    from codekiln_core.special_tokens import BOS, EOS, PAD, SPECIAL_TOKENS

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = [p.read_text(errors="replace") for p in sorted(stdlib.glob("*.py"))[:30]]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=768, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=BOS, eos_token=EOS,
                            pad_token=PAD).save_pretrained(str(out))
    write_chat_template(out, "seed-coder")
    return out


def tiny_model(vocab: int) -> Any:
    from codekiln_train.models import PRESETS, build_model

    return build_model(PRESETS["tiny"], vocab_size=vocab, bos_token_id=0, eos_token_id=2,
                       pad_token_id=1, seed=0)


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).open()]


class Engine:
    """Ours: codekiln_train's engine, fp32 ZeRO-0 on CPU, AdamW."""

    def __init__(self, model: Any, loss_fn: Any, batch: dict[str, Any]) -> None:
        from codekiln_train.engine.deepspeed_engine import Engine as TrainEngine
        from codekiln_train.recipe import EngineConfig

        cfg = EngineConfig(lr=1e-4, weight_decay=0.0, gradient_accumulation_steps=1,
                           micro_batch_size=len(batch["input_ids"]))
        self.engine = TrainEngine.build(model, cfg, lr_lambda=lambda _: 1.0, seq_len=512,
                                        device="cpu")
        self.loss_fn, self.batch = loss_fn, batch

    def step(self) -> float:
        start = time.perf_counter()
        loss, _ = self.loss_fn(self.engine.wrapped, self.batch)
        self.engine.backward(loss)
        self.engine.step()
        return time.perf_counter() - start


class Trl:
    """TRL: its compute_loss on its own collated batch, then AdamW."""

    def __init__(self, trainer: Any, batch: dict[str, Any]) -> None:
        import torch

        self.trainer, self.batch = trainer, batch
        self.opt = torch.optim.AdamW(trainer.model.parameters(), lr=1e-4, weight_decay=0.0)

    def step(self) -> float:
        start = time.perf_counter()
        loss = self.trainer.compute_loss(self.trainer.model, dict(self.batch))
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return time.perf_counter() - start


def sft_pair(tok: Any, tmp: Path) -> tuple[Engine, Trl, int, int]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from codekiln_posttrain.sft import encode_all, pack, packed_collate
    from codekiln_train.loop import causal_lm_loss
    from codekiln_train.models.document_attention import register

    data = rows("posttrain-tiny-sft.jsonl")
    encoded, _ = encode_all(tok, data, 512)
    sequences = pack(encoded, 512)
    ours_batch = packed_collate(512, tok.pad_token_id)(sequences)
    model = tiny_model(len(tok))
    trl_model = copy.deepcopy(model)
    model.set_attn_implementation(register())
    ds = Dataset.from_list([{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]}
                            for r in data])
    trainer = SFTTrainer(model=trl_model, processing_class=tok, train_dataset=ds,
                         args=SFTConfig(output_dir=str(tmp / "sft"), report_to=[],
                                        use_cpu=True, max_length=512,
                                        per_device_train_batch_size=len(data)))
    trl_batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(data))])
    return (Engine(model, causal_lm_loss, ours_batch), Trl(trainer, trl_batch),
            int(ours_batch["input_ids"].numel()), int(trl_batch["input_ids"].numel()))


def dpo_pair(tok: Any, tmp: Path) -> tuple[Engine, Trl, int, int]:
    import torch
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from codekiln_posttrain.dpo import encode_pairs, pair_collate
    from codekiln_posttrain.dpo_loss import dpo_loss_fn, reference_logps
    from codekiln_train.models.document_attention import register

    data = rows("posttrain-tiny-pairs.jsonl")
    model = tiny_model(len(tok))
    ref = copy.deepcopy(model)
    trl_model = copy.deepcopy(model)
    ds = Dataset.from_list([{"prompt": r["prompt"],
                             "chosen": [{"role": "assistant", "content": r["chosen"]}],
                             "rejected": [{"role": "assistant", "content": r["rejected"]}]}
                            for r in data])
    trainer = DPOTrainer(model=trl_model, ref_model=ref, processing_class=tok, train_dataset=ds,
                         args=DPOConfig(output_dir=str(tmp / "dpo"), report_to=[], use_cpu=True,
                                        beta=0.1, max_length=None,
                                        per_device_train_batch_size=len(data)))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(data))])
    padded = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
              "labels": batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)}
    chosen, rejected = reference_logps(ref, [padded])
    trainer.precompute_ref_logps = True  # the stored-reference path, like ours
    batch = {**batch, "ref_chosen_logps": torch.tensor(chosen),
             "ref_rejected_logps": torch.tensor(rejected)}
    model.set_attn_implementation(register())
    ours = pair_collate()(encode_pairs(tok, data, 512))
    ours["ref_chosen_logps"], ours["ref_rejected_logps"] = (torch.tensor(chosen),
                                                            torch.tensor(rejected))
    return (Engine(model, dpo_loss_fn(0.1), ours), Trl(trainer, batch),
            int(ours["input_ids"].numel()), int(batch["input_ids"].numel()))


def race(name: str, ours: Engine, trl: Trl, tokens: tuple[int, int], steps: int) -> None:
    ours.step(), trl.step()  # warm-up
    a, b = [], []
    for _ in range(steps):
        a.append(ours.step())
        b.append(trl.step())
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name}: codekiln {ma * 1e3:.1f} ms/step ({tokens[0]} tokens in the batch), "
          f"TRL {mb * 1e3:.1f} ms/step ({tokens[1]} tokens)")
    print_ratio(f"{name} step time, TRL / codekiln", mb / ma)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parse_args(parser, {"steps": 1})
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / ".codekiln" / "torch_extensions"))
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp())
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir(tmp / "tok")))
    ours, trl, *tokens = sft_pair(tok, tmp)
    race("SFT", ours, trl, (tokens[0], tokens[1]), args.steps)
    ours, trl, *tokens = dpo_pair(tok, tmp)
    race("DPO", ours, trl, (tokens[0], tokens[1]), args.steps)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
