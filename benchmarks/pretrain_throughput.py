"""Pretraining throughput on CPU: codekiln's DeepSpeed engine + loop vs Hugging Face Trainer.

Same model config and initial weights (one ``build_model`` per preset, copied), the same
micro-batches in the same order (drawn once from our mixture sampler over real shards made
by ``codekiln curate tokenizer train`` + ``codekiln curate shards`` on stdlib modules), fp32,
AdamW (lr 1e-3, betas 0.9/0.95, wd 0.1 off norms/biases), constant lr, clip 1.0, the same
torch thread count. Runs interleave (ours, Trainer, Trainer, ours, ...) and each number is
the median of ``--runs`` runs; step time is the median step after the first (warm-up) one.
Peak RSS is sampled every 10 ms during each run (both run in this process: imports count
for both). Loss curves are compared step by step.

    uv run python benchmarks/pretrain_throughput.py --runs 3 --threads 1
    uv run python benchmarks/pretrain_throughput.py --toy   # 3 tiny steps each, seconds

``--toy`` also makes its shards afresh (8 modules, in a temporary folder) instead of reusing
the cached ones, so the curate commands it calls are exercised every time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PeakRss, parse_args, print_ratio

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".codekiln" / "bench-pretrain"
SEQ_LEN = 128
THREADS = 1  # set from --threads


def make_shards(cache: Path, modules: int) -> Path:
    """Tokenizer + one shard set from ``modules`` stdlib modules via the real curate commands."""
    import shutil
    import sysconfig

    shards = cache / "shards"
    if (shards / "manifest.json").is_file():
        return shards
    corpus = cache / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sized = [p for p in sorted(stdlib.glob("*.py")) if 3_000 < p.stat().st_size < 30_000]
    for path in sized[:modules]:
        shutil.copy(path, corpus / path.name)
    run = [sys.executable, "-m", "codekiln_core"]
    subprocess.run([*run, "curate", "tokenizer", "train", str(corpus), "--vocab-size", "2048",
                    "--output", str(cache / "tokenizer"), "--no-lineage"], check=True)
    subprocess.run([*run, "curate", "shards", str(corpus), "--tokenizer",
                    str(cache / "tokenizer"), "--seq-len", str(SEQ_LEN), "--fim-rate", "0.5",
                    "--output", str(shards), "--no-lineage"], check=True)
    return shards


def in_process_rss() -> PeakRss:
    """This process's RSS every 10 ms (both engines run here; no /proc scan for children)."""
    return PeakRss(interval_s=0.01, tree=False)


class Replay:
    """A BatchSource replaying fixed micro-batches (both engines read the same list)."""

    def __init__(self, batches: list[dict[str, Any]]) -> None:
        self.batches, self.position = batches, 0

    def next_batch(self) -> dict[str, Any]:
        batch = self.batches[self.position % len(self.batches)]
        self.position += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.position = int(state["position"])


def settings(mbs: int) -> Any:
    from codekiln_train.recipe import CheckpointConfig, EngineConfig, LogConfig, ScheduleConfig

    return (EngineConfig(micro_batch_size=mbs, gradient_accumulation_steps=1, lr=1e-3,
                         precision="fp32", zero_stage=0),
            ScheduleConfig(kind="constant", warmup_steps=0),
            LogConfig(every_steps=1), CheckpointConfig(every_steps=10**9))


def run_ours(model: Any, batches: list[dict[str, Any]], steps: int,
             flops: float) -> dict[str, Any]:
    from codekiln_core.lineage import LineageRun
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.loop import LoopConfig, causal_lm_loss, train

    engine_cfg, schedule, log, ckpt = settings(len(batches[0]["input_ids"]))
    engine = Engine.create(model, engine_cfg, schedule=schedule, total_steps=steps,
                           seq_len=SEQ_LEN, device="cpu")
    import torch

    torch.set_num_threads(THREADS)
    step_times: list[float] = []
    threads_seen: set[int] = set()

    def on_log(row: dict[str, Any]) -> None:
        step_times.append(row["step_time_s"])
        threads_seen.add(torch.get_num_threads())

    with tempfile.TemporaryDirectory() as tmp, in_process_rss() as rss:
        summary = train(engine=engine, batches=Replay(batches), loss_fn=causal_lm_loss,
                        loop=LoopConfig(total_steps=steps, log=log, checkpoint=ckpt, seed=0),
                        checkpoint_dir=Path(tmp), run=LineageRun(None),
                        tokens_per_step=engine_cfg.micro_batch_size * SEQ_LEN,
                        flops_per_token=flops,
                        on_log=on_log)
    engine.wrapped.destroy()
    return {"losses": [loss for _, loss in summary.losses], "step_times": step_times,
            "peak_rss": rss.peak, "threads": sorted(threads_seen)}


def run_trainer(model: Any, batches: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Batches(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return steps

        def __getitem__(self, index: int) -> dict[str, Any]:
            return batches[index % len(batches)]

    class InOrder(Trainer):
        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            return torch.utils.data.SequentialSampler(self.train_dataset)

    losses: list[float] = []
    step_times: list[float] = []
    threads_seen: set[int] = set()

    class Timer(TrainerCallback):
        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.begin = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            step_times.append(time.perf_counter() - self.begin)
            threads_seen.add(torch.get_num_threads())

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            # Trainer/accelerate re-set torch's thread count to the core count; pin it back
            # so both engines run with the same threads.
            torch.set_num_threads(THREADS)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                   **kw: Any) -> None:
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, max_steps=steps, per_device_train_batch_size=1,
            gradient_accumulation_steps=1, learning_rate=1e-3, weight_decay=0.1,
            adam_beta1=0.9, adam_beta2=0.95, adam_epsilon=1e-8, max_grad_norm=1.0,
            lr_scheduler_type="constant", warmup_steps=0, logging_steps=1, save_strategy="no",
            report_to=[], use_cpu=True, dataloader_num_workers=0, disable_tqdm=True,
            seed=0, optim="adamw_torch")
        trainer = InOrder(model=model, args=args, train_dataset=Batches(),
                          data_collator=lambda items: items[0], callbacks=[Timer()])
        with in_process_rss() as rss:
            trainer.train()
    return {"losses": losses, "step_times": step_times, "peak_rss": rss.peak,
            "threads": sorted(threads_seen)}


def bench_preset(preset: str, steps: int, runs: int, mbs: int, shards: Path) -> dict[str, Any]:
    import copy

    from codekiln_train.data import build_batch_source, check_shard_sets
    from codekiln_train.models import build_model, flops_per_token, resolve_model_config
    from codekiln_train.recipe import ShardSetRef

    info = check_shard_sets([ShardSetRef(path=shards)])
    source = build_batch_source([ShardSetRef(path=shards)], micro_batch_size=mbs, seed=0)
    batches = [source.next_batch() for _ in range(steps)]
    cfg = resolve_model_config(preset)
    base = build_model(cfg, vocab_size=info.vocab_size, bos_token_id=info.bos_token_id,
                       eos_token_id=info.eos_token_id, pad_token_id=info.pad_token_id)
    flops = flops_per_token(cfg, info.vocab_size, SEQ_LEN)
    results: dict[str, list[dict[str, Any]]] = {"codekiln": [], "trainer": []}
    for run in range(runs):
        order = ["codekiln", "trainer"] if run % 2 == 0 else ["trainer", "codekiln"]
        for name in order:
            model = copy.deepcopy(base)
            out = run_ours(model, batches, steps, flops) if name == "codekiln" else \
                run_trainer(model, batches, steps)
            results[name].append(out)
            print(f"{preset} run {run + 1} {name}: median step "
                  f"{statistics.median(out['step_times'][1:]):.4f}s, torch threads "
                  f"{out['threads']}", flush=True)
    tokens_per_step = mbs * SEQ_LEN
    summary: dict[str, Any] = {"preset": preset, "steps": steps, "tokens_per_step":
                               tokens_per_step, "load_avg": os.getloadavg()}
    for name, outs in results.items():
        step = statistics.median(statistics.median(o["step_times"][1:]) for o in outs)
        summary[name] = {"tokens_per_s": tokens_per_step / step, "step_time_s": step,
                         "peak_rss_gib": statistics.median(o["peak_rss"] for o in outs) / 2**30,
                         "losses": outs[0]["losses"]}
    ours, theirs = summary["codekiln"]["losses"], summary["trainer"]["losses"]
    summary["ratio_tokens_per_s"] = summary["codekiln"]["tokens_per_s"] / \
        summary["trainer"]["tokens_per_s"]
    summary["max_abs_loss_diff"] = max(abs(a - b) for a, b in zip(ours, theirs, strict=True))
    print(f"{preset} losses codekiln {[round(x, 5) for x in ours]}\n"
          f"{preset} losses Trainer  {[round(x, 5) for x in theirs]}", flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--presets", default="tiny:30,small:8", help="preset:steps,...")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parse_args(parser, {"runs": 1, "presets": "tiny:3", "micro_batch": 1})
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(CACHE / "torch_extensions"))
    import torch

    global THREADS
    THREADS = args.threads
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="pretrain-bench-") as tmp:
        shards = make_shards(Path(tmp), 8) if args.toy else make_shards(CACHE, 40)
        results = []
        for item in args.presets.split(","):
            preset, steps = item.split(":")
            results.append(bench_preset(preset, int(steps), args.runs, args.micro_batch, shards))
    print(f"\nthreads {args.threads}, fp32, micro-batch {args.micro_batch} x {SEQ_LEN} tokens, "
          f"median of {args.runs} interleaved runs; load average now {os.getloadavg()}")
    print("| preset | codekiln tokens/s | Trainer tokens/s | ratio | step s (ck / HF) | "
          "peak RSS GiB (ck / HF) | max abs loss diff |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        ck, hf = r["codekiln"], r["trainer"]
        print(f"| {r['preset']} | {ck['tokens_per_s']:,.0f} | {hf['tokens_per_s']:,.0f} | "
              f"**{r['ratio_tokens_per_s']:.2f}x** | {ck['step_time_s']:.4f} / "
              f"{hf['step_time_s']:.4f} | {ck['peak_rss_gib']:.2f} / {hf['peak_rss_gib']:.2f} "
              f"| {r['max_abs_loss_diff']:.2e} |")
    for r in results:
        print_ratio(f"{r['preset']} tokens/s, codekiln / Trainer", r["ratio_tokens_per_s"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
