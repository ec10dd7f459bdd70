"""GPU throughput and MFU of the ``1b`` preset at sequence 4096 in bf16 (one device, ~50 steps).

Written for the lent H200 (not run on the CPU dev machine). It trains through the same
``Engine`` and ``train`` loop as ``codekiln train pretrain`` on packed synthetic documents
(random token ids, 512-4096 tokens each, position ids restarting per document; with
``--attn flash_attention_2`` attention stays within documents, with ``sdpa`` it is plain
causal over the row, which costs the same FLOPs), and prints tokens/s, step time,
MFU (6N + 12*L*H*T FLOPs per token over the table's peak) and peak memory as JSON.

Device image: Python 3.12, torch, transformers, no DeepSpeed/MLflow. Carry (64 MiB in all):
    uv run pip wheel --no-deps deepspeed==0.19.8 hjson ninja py-cpuinfo -w wheels/
    uv run pip download --no-deps --python-version 3.12 --only-binary=:all: \\
        pydantic pydantic-core typing-inspection annotated-types typer click rich pyyaml \\
        pluggy shellingham -d wheels/
and run (one command, well under 8 minutes):
    pip install --no-index --find-links wheels deepspeed hjson pydantic ... && \\
    PYTHONPATH=packages/core/src:packages/train/src \\
    python benchmarks/pretrain_gpu_1b.py --steps 50 --out $OUT/gpu_1b.json

``--toy`` runs the same engine, loop and JSON on the CPU: the ``tiny`` preset, a 1024-token
vocabulary, 128-token rows, fp32, 7 steps (seconds; the numbers mean nothing). There is no
peer: its ratio line is the MFU, achieved model FLOP/s over the device's peak.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import parse_args, print_ratio

VOCAB = 155_136  # Seed-Coder's vocabulary size: the embedding/head cost is real


class SyntheticPacked:
    """Packed sequences of random documents: labels -100 at each document's first token."""

    def __init__(self, micro_batch_size: int, seq_len: int, vocab: int, seed: int = 0) -> None:
        import torch

        self.mbs, self.seq_len, self.vocab = micro_batch_size, seq_len, vocab
        # 512-4096 tokens per document at the real sizes; shorter rows get shorter documents
        self.doc_lengths = (min(512, seq_len // 4), min(4096, seq_len))
        self.gen = torch.Generator().manual_seed(seed)
        self.position = 0

    def next_batch(self) -> dict[str, Any]:
        import torch

        ids = torch.randint(3, self.vocab, (self.mbs, self.seq_len), generator=self.gen)
        positions = torch.empty_like(ids)
        labels = ids.clone()
        for row in range(self.mbs):
            start = 0
            while start < self.seq_len:
                shortest, longest = self.doc_lengths
                length = int(torch.randint(shortest, longest + 1, (1,), generator=self.gen))
                end = min(self.seq_len, start + length)
                positions[row, start:end] = torch.arange(end - start)
                labels[row, start] = -100
                start = end
        self.position += 1
        return {"input_ids": ids, "labels": labels, "position_ids": positions}

    def state_dict(self) -> dict[str, Any]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.position = int(state["position"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--seq-len", type=int, default=4096)
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--accumulation", type=int, default=2)
    parser.add_argument("--zero-stage", type=int, default=0)
    parser.add_argument("--activation-checkpointing", action="store_true")
    parser.add_argument("--attn", default="sdpa", help="sdpa or flash_attention_2")
    parser.add_argument("--out", type=Path, default=Path("gpu_1b.json"))
    parser.add_argument("--preset", default="1b")
    parser.add_argument("--vocab", type=int, default=VOCAB)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    args = parse_args(parser, {"steps": 7, "seq_len": 128, "micro_batch": 1, "accumulation": 1,
                               "preset": "tiny", "vocab": 1024, "device": "cpu",
                               "precision": "fp32", "out": None})

    import torch

    from codekiln_core.lineage import LineageRun
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.loop import LoopConfig, causal_lm_loss, train
    from codekiln_train.models import build_model, flops_per_token, resolve_model_config
    from codekiln_train.recipe import CheckpointConfig, EngineConfig, LogConfig, ScheduleConfig

    cfg = resolve_model_config(args.preset,
                               {"max_position_embeddings": max(8192, args.seq_len)})
    model = build_model(cfg, vocab_size=args.vocab, bos_token_id=0, eos_token_id=2,
                        pad_token_id=1, device=args.device, attn_implementation=args.attn)
    engine_cfg = EngineConfig(zero_stage=args.zero_stage, precision=args.precision,
                              micro_batch_size=args.micro_batch,
                              gradient_accumulation_steps=args.accumulation, lr=3e-4,
                              activation_checkpointing=args.activation_checkpointing)
    engine = Engine.create(model, engine_cfg, schedule=ScheduleConfig(kind="constant",
                                                                      warmup_steps=5),
                           total_steps=args.steps, seq_len=args.seq_len, device=args.device)
    rows: list[dict[str, Any]] = []
    tokens_per_step = args.micro_batch * args.seq_len * args.accumulation
    with tempfile.TemporaryDirectory() as tmp:
        batches = SyntheticPacked(args.micro_batch, args.seq_len, args.vocab)
        summary = train(engine=engine, batches=batches,
                        loss_fn=causal_lm_loss,
                        loop=LoopConfig(total_steps=args.steps, log=LogConfig(every_steps=1),
                                        checkpoint=CheckpointConfig(every_steps=10**9),
                                        seed=0),
                        checkpoint_dir=Path(tmp), run=LineageRun(None),
                        tokens_per_step=tokens_per_step,
                        flops_per_token=flops_per_token(cfg, args.vocab, args.seq_len),
                        on_log=rows.append)
    steady = rows[5:]  # after warm-up and allocator growth
    result = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else
        platform.processor() or "cpu",
        "preset": args.preset, "precision": args.precision, "seq_len": args.seq_len,
        "micro_batch": args.micro_batch, "accumulation": args.accumulation,
        "zero_stage": args.zero_stage, "attn": args.attn, "steps": args.steps,
        "tokens_per_s": statistics.median(r["tokens_per_s"] for r in steady),
        "step_time_s": statistics.median(r["step_time_s"] for r in steady),
        "mfu": statistics.median(r["mfu"] for r in steady),
        "peak_memory_gib": summary.peak_memory_gb, "final_loss": summary.final_loss,
        "peak_flops_source": summary.peak_flops_source}
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    print_ratio("MFU, model FLOP/s / peak FLOP/s", result["mfu"])


if __name__ == "__main__":
    main()
