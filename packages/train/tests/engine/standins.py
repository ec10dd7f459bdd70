"""Small local stand-ins for the engine tests, and a worker for the multi-process test.

Run as a script by the 2-process test (``python standins.py OUT``) under RANK/WORLD_SIZE
set by the test; imported by path from conftest for the in-process tests.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VOCAB = 512
SEQ_LEN = 32


@dataclass
class EngineStandin:
    """The fields of recipe.EngineConfig the engine reads."""

    zero_stage: int = 0
    precision: str = "auto"
    micro_batch_size: int = 2
    global_batch_tokens: int | None = None
    gradient_accumulation_steps: int | None = 2
    grad_clip: float = 1.0
    activation_checkpointing: bool = False
    lr: float = 3e-3
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8


@dataclass
class LogStandin:
    every_steps: int = 1
    eval_every_steps: int | None = None
    eval_batches: int = 2


@dataclass
class CheckpointStandin:
    every_steps: int = 1000
    keep_last: int = 2


class CountingSource:
    """Deterministic packed-looking batches: each sequence counts up from a seeded start.

    Sequence ``i`` of the global stream is the same whatever the world size, and rank ``r``
    of ``w`` reads micro-batch ``b`` as global sequences ``(b*w + r)*m ...``: one process
    with accumulation 2 sees exactly the sequences two processes see in one micro-step each.
    """

    def __init__(self, *, micro_batch_size: int, seed: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        self.mbs, self.seed, self.rank, self.world = micro_batch_size, seed, rank, world_size
        self.position = 0

    def sequence(self, index: int) -> Any:
        import torch

        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        start = int(torch.randint(3, VOCAB, (1,), generator=gen))
        stride = int(torch.randint(1, 4, (1,), generator=gen))
        return (start + stride * torch.arange(SEQ_LEN)) % (VOCAB - 3) + 3

    def next_batch(self) -> dict[str, Any]:
        import torch

        first = (self.position * self.world + self.rank) * self.mbs
        ids = torch.stack([self.sequence(first + k) for k in range(self.mbs)]).long()
        self.position += 1
        labels = ids.clone()
        labels[:, 0] = -100
        return {"input_ids": ids, "labels": labels,
                "position_ids": torch.arange(SEQ_LEN).expand(self.mbs, SEQ_LEN).clone()}

    def state_dict(self) -> dict[str, Any]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.position = int(state["position"])


def tiny_model(seed: int = 0) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from codekiln_core.testing import TINY_LLAMA

    torch.manual_seed(seed)
    config = LlamaConfig(**{**TINY_LLAMA, "vocab_size": VOCAB})
    return LlamaForCausalLM(config)


def run_steps(engine_settings: EngineStandin, steps: int) -> list[float]:
    """Train the tiny model ``steps`` steps on the counting source; the per-step losses."""
    from codekiln_core.lineage import LineageRun
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.loop import LoopConfig, causal_lm_loss, train

    engine = Engine.build(tiny_model(), engine_settings, lr_lambda=lambda s: 1.0,
                          seq_len=SEQ_LEN, device="cpu")
    source = CountingSource(micro_batch_size=engine_settings.micro_batch_size,
                            rank=engine.rank, world_size=engine.world_size)
    tokens = engine_settings.micro_batch_size * SEQ_LEN * engine.gradient_accumulation_steps \
        * engine.world_size
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        summary = train(engine=engine, batches=source, loss_fn=causal_lm_loss,
                        loop=LoopConfig(total_steps=steps, log=LogStandin(),
                                        checkpoint=CheckpointStandin(every_steps=steps),
                                        seed=0, peak_flops=1e12),
                        checkpoint_dir=Path(tmp) / "ckpt", run=LineageRun(None),
                        tokens_per_step=tokens, flops_per_token=1.0)
    return [loss for _, loss in summary.losses]


if __name__ == "__main__":
    # The 2-process worker: ZeRO stage and accumulation from argv, losses to OUT (rank 0).
    import os

    import torch

    torch.set_num_threads(1)
    out, stage, steps = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    losses = run_steps(EngineStandin(zero_stage=stage, gradient_accumulation_steps=1), steps)
    if os.environ.get("RANK") == "0":
        out.write_text(json.dumps(losses), encoding="utf-8")
