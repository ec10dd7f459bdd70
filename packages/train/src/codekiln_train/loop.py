"""The one training loop: pretraining, SFT, DPO and the quality scorer all run it with their
own loss function.

Per step: ``gradient_accumulation_steps`` micro-batches (forward, loss, backward), one
optimizer step, then logging, validation and checkpointing on their schedules. Everything a
step depends on (weights, optimizer, scheduler, sampler position, RNG, counters) is in the
checkpoint, so a resumed run continues bit for bit on CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codekiln_train import checkpoint as ckpt
from codekiln_train.metrics import MetricsLog, device_peak_flops, memory_gb, mfu

if TYPE_CHECKING:
    import torch

    from codekiln_core.lineage import LineageRun
    from codekiln_train.engine.deepspeed_engine import Engine

LossFn = Callable[["torch.nn.Module", dict[str, "torch.Tensor"]],
                  tuple["torch.Tensor", dict[str, float]]]


class BatchSource(Protocol):
    """Micro-batches for one rank, resumable (see ``codekiln_train.data``)."""

    def next_batch(self) -> dict[str, torch.Tensor]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class LogSettings(Protocol):
    @property
    def every_steps(self) -> int: ...
    @property
    def eval_every_steps(self) -> int | None: ...
    @property
    def eval_batches(self) -> int: ...


class CheckpointSettings(Protocol):
    @property
    def every_steps(self) -> int: ...
    @property
    def keep_last(self) -> int: ...


@dataclass
class LoopConfig:
    total_steps: int                # optimizer steps of this run (or stage)
    log: LogSettings                # log every N steps; validation every M steps
    checkpoint: CheckpointSettings  # checkpoint every N steps and at the end; keep the last K
    seed: int                       # seeds python/numpy/torch before the first step
    peak_flops: float | None = None  # per-device peak FLOP/s for MFU; None: table/measured
    log_loss_metrics: bool = False  # log the loss function's own metrics at every logged step


@dataclass
class TrainSummary:
    steps: int
    tokens: int
    final_loss: float
    final_val_loss: float | None
    tokens_per_s: float
    step_time_s: float
    mfu: float
    peak_memory_gb: float
    wall_s: float
    resumed_from: int | None
    final_checkpoint: Path | None
    peak_flops_source: str = ""
    losses: list[tuple[int, float]] = field(default_factory=list)
    val_losses: list[tuple[int, float]] = field(default_factory=list)


def causal_lm_loss(model: torch.nn.Module,
                   batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Next-token cross entropy, mean over the tokens whose label is not -100.

    Labels are aligned with ``input_ids`` (the model shifts them), so a document's first
    token, labelled -100 by the collator, is never predicted from the previous document.
    """
    inputs = {key: batch[key] for key in ("input_ids", "position_ids", "attention_mask")
              if key in batch}
    out = model(**inputs, labels=batch["labels"], use_cache=False)
    targets = int((batch["labels"][:, 1:] != -100).sum())
    return out.loss, {"target_tokens": float(targets)}


def _to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def _mean_over_ranks(value: torch.Tensor, engine: Engine) -> float:
    if engine.world_size > 1:
        import torch.distributed as dist

        value = value.clone()
        dist.all_reduce(value)
        value /= engine.world_size
    return float(value)


def summed_over_ranks(values: dict[str, float], world_size: int) -> dict[str, float]:
    """Each value summed over the ranks, in float64 (every rank passes the same keys)."""
    if world_size == 1 or not values:
        return dict(values)
    import torch
    import torch.distributed as dist

    keys = sorted(values)
    totals = torch.tensor([float(values[key]) for key in keys], dtype=torch.float64)
    dist.all_reduce(totals)
    return dict(zip(keys, totals.tolist(), strict=True))


def step_metrics(parts: list[dict[str, float]], engine: Engine) -> dict[str, float]:
    """The loss function's metrics of one step, over its micro-batches and every rank:
    counts (keys ending in ``_tokens``) summed, the rest averaged. Summed micro-batch by
    micro-batch, then over ranks, so one rank accumulating k micro-batches reports what k
    ranks report."""
    keys = sorted(parts[0]) if parts else []
    totals = summed_over_ranks({key: sum(part[key] for part in parts) for key in keys},
                               engine.world_size)
    count = len(parts) * engine.world_size
    return {key: value if key.endswith("_tokens") else value / count
            for key, value in totals.items()}


def evaluate(engine: Engine, loss_fn: LossFn,
             batches: Iterable[dict[str, torch.Tensor]]) -> float:
    """Mean loss over the validation batches (the same batches on every rank and call)."""
    import torch

    engine.train(False)
    total, count = torch.zeros((), dtype=torch.float64), 0
    with torch.no_grad():
        for batch in batches:
            loss, _ = loss_fn(engine.wrapped, _to_device(batch, engine.device))
            total += loss.detach().double().cpu()
            count += 1
    engine.train(True)
    return _mean_over_ranks(total / max(1, count), engine)


def train(*, engine: Engine, batches: BatchSource, loss_fn: LossFn, loop: LoopConfig,
          checkpoint_dir: Path | None, run: LineageRun, tokens_per_step: int,
          flops_per_token: float,
          validation: Callable[[], Iterable[dict[str, torch.Tensor]]] | None = None,
          resume: bool = False, progress_label: str = "train",
          metrics_file: Path | None = None, step_offset: int = 0,
          on_log: Callable[[dict[str, Any]], None] | None = None) -> TrainSummary:
    """Train ``loop.total_steps`` optimizer steps; returns the numbers for the summary.

    ``step_offset`` shifts the logged step numbers (stage N continues stage N-1's axis).
    ``checkpoint_dir`` None: no checkpoints and no resume (a run that saves its model whole
    at the end, like the quality scorer).
    """
    import torch

    started = time.perf_counter()
    log = MetricsLog(metrics_file if engine.rank == 0 else None)
    state = _resume(engine, batches, checkpoint_dir, log, step_offset) \
        if resume and checkpoint_dir is not None else None
    if state is None:
        ckpt.seed_everything(loop.seed)
    step = int(state["step"]) if state else 0
    tokens = int(state["tokens"]) if state else 0
    losses: list[tuple[int, float]] = [tuple(x) for x in state["losses"]] if state else []
    val_losses: list[tuple[int, float]] = [tuple(x) for x in state["val_losses"]] if state \
        else []
    peak, peak_source = device_peak_flops(engine.device.type, loop.peak_flops)
    train_time, step_times = 0.0, []
    last_checkpoint: Path | None = None
    window_tokens, window_time = 0, 0.0
    engine.train(True)
    with _Progress(progress_label, loop.total_steps, step, engine.rank == 0) as bar:
        while step < loop.total_steps:
            begin = time.perf_counter()
            loss_sum = torch.zeros((), dtype=torch.float32)
            parts: list[dict[str, float]] = []
            for _ in range(engine.gradient_accumulation_steps):
                batch = _to_device(batches.next_batch(), engine.device)
                loss, extra = loss_fn(engine.wrapped, batch)
                engine.backward(loss)
                loss_sum += loss.detach().float().cpu()
                parts.append(extra)
            stats = engine.step()
            step += 1
            tokens += tokens_per_step
            elapsed = time.perf_counter() - begin
            train_time += elapsed
            step_times.append(elapsed)
            window_tokens += tokens_per_step
            window_time += elapsed
            mean_loss = _mean_over_ranks(loss_sum / engine.gradient_accumulation_steps, engine)
            losses.append((step, mean_loss))
            row: dict[str, Any] | None = None
            if step % max(1, loop.log.every_steps) == 0 or step == loop.total_steps:
                per_device = window_tokens / max(window_time, 1e-9) / engine.world_size
                row = {"step": step + step_offset, "loss": mean_loss,
                       "grad_norm": stats.grad_norm, "lr": stats.lr, "tokens": tokens,
                       "tokens_per_s": window_tokens / max(window_time, 1e-9),
                       "step_time_s": window_time / max(1, loop.log.every_steps),
                       "mfu": mfu(per_device, flops_per_token, peak),
                       "memory_gb": memory_gb(engine.device.type)}
                if loop.log_loss_metrics:
                    row.update(step_metrics(parts, engine))
                window_tokens, window_time = 0, 0.0
            eval_every = loop.log.eval_every_steps  # None: only at the end (the recipe says)
            if validation is not None and (step == loop.total_steps
                                           or (eval_every and step % eval_every == 0)):
                val = evaluate(engine, loss_fn, validation())
                val_losses.append((step, val))
                row = row or {"step": step + step_offset}
                row["val_loss"] = val
            if row is not None and engine.rank == 0:
                log.append(row)
                run.log_metrics({k: v for k, v in row.items() if k != "step"},
                                step=int(row["step"]))
                if on_log is not None:
                    on_log(row)
            bar(step, mean_loss, stats.lr)
            if checkpoint_dir is not None and (step % max(1, loop.checkpoint.every_steps) == 0
                                               or step == loop.total_steps):
                last_checkpoint = _save(engine, batches, checkpoint_dir, loop, step, tokens,
                                        losses, val_losses)
    wall = time.perf_counter() - started
    done_steps = len(step_times)
    median_step = sorted(step_times)[done_steps // 2] if step_times else 0.0
    tokens_per_s = tokens_per_step * done_steps / train_time if train_time else 0.0
    return TrainSummary(
        steps=step, tokens=tokens, final_loss=losses[-1][1] if losses else float("nan"),
        final_val_loss=val_losses[-1][1] if val_losses else None, tokens_per_s=tokens_per_s,
        step_time_s=median_step,
        mfu=mfu(tokens_per_s / engine.world_size, flops_per_token, peak),
        peak_memory_gb=memory_gb(engine.device.type), wall_s=wall,
        resumed_from=int(state["step"]) if state else None,
        final_checkpoint=last_checkpoint or (ckpt.latest_checkpoint(checkpoint_dir)
                                             if checkpoint_dir is not None else None),
        peak_flops_source=peak_source, losses=losses, val_losses=val_losses)


def _resume(engine: Engine, batches: BatchSource, root: Path, log: MetricsLog,
            step_offset: int) -> dict[str, Any] | None:
    from codekiln_core.fsio import remove_stale_temps

    remove_stale_temps(root)
    latest = ckpt.latest_checkpoint(root)
    if latest is None:
        log.truncate_after(step_offset)  # killed before its first checkpoint: redone from 0
        return None
    state = engine.load(latest)
    batches.load_state_dict(state["batches"])
    ckpt.restore_rng(state["rng"])
    log.truncate_after(int(state["step"]) + step_offset)
    return state


def _save(engine: Engine, batches: BatchSource, root: Path, loop: LoopConfig, step: int,
          tokens: int, losses: list[tuple[int, float]],
          val_losses: list[tuple[int, float]]) -> Path:
    target = ckpt.step_dir(root, step)
    engine.save(target, {"step": step, "tokens": tokens, "batches": batches.state_dict(),
                         "rng": ckpt.capture_rng(), "losses": losses,
                         "val_losses": val_losses, "seed": loop.seed})
    if engine.rank == 0:
        ckpt.prune_checkpoints(root, loop.checkpoint.keep_last)
    return target


class _Bar(Protocol):
    def __call__(self, step: int, loss: float, lr: float) -> None: ...


class _Progress:
    """A rich progress bar on rank 0 (stderr); a no-op on the other ranks."""

    def __init__(self, label: str, total: int, done: int, enabled: bool) -> None:
        self.label, self.total, self.done, self.enabled = label, total, done, enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}"),
                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total,
                                                 completed=self.done, loss="-", lr="-")
        return self._update

    def _update(self, step: int, loss: float, lr: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step, loss=f"{loss:.4f}",
                                  lr=f"{lr:.2e}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
