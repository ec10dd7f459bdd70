"""The training engine: one DeepSpeed engine, the same in one CPU process and on a cluster.

Pretraining, SFT and DPO all step through this class; it knows nothing about their data or
losses. DeepSpeed does the ZeRO partitioning, gradient all-reduce, accumulation and bf16;
we pass it a torch AdamW (no JIT-built fused_adam) and a LambdaLR over our schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_train.engine.config import (
    EngineSettings,
    accumulation_steps,
    deepspeed_config,
    param_groups,
    resolve_precision,
)
from codekiln_train.engine.environment import cuda_usable, ensure_distributed_env, world

if TYPE_CHECKING:
    import torch

    from codekiln_train.recipe import ScheduleConfig

#: Per-rank state the caller keeps (sampler position, RNG, counters) lives in this file.
CLIENT_STATE = "client-rank{rank:05d}.pt"


@dataclass(frozen=True)
class StepStats:
    """What one optimizer step reports: the pre-clip gradient norm and the lr it used."""

    step: int
    grad_norm: float
    lr: float


class Engine:
    """A model being trained: ``backward`` per micro-batch, ``step`` at each boundary."""

    def __init__(self, wrapped: Any, *, device: torch.device, dtype: torch.dtype, rank: int,
                 world_size: int, gradient_accumulation_steps: int, zero_stage: int,
                 self_clip: float | None) -> None:
        self.wrapped = wrapped            # the DeepSpeedEngine: call it to run the forward
        self.device = device
        self.dtype = dtype
        self.rank = rank
        self.world_size = world_size
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.zero_stage = zero_stage
        self._self_clip = self_clip

    @property
    def module(self) -> torch.nn.Module:
        """The unwrapped model (for export, evaluation and generation)."""
        module: torch.nn.Module = self.wrapped.module
        return module

    @property
    def optimizer_steps(self) -> int:
        return int(self.wrapped.global_steps)

    @classmethod
    def create(cls, model: torch.nn.Module, config: EngineSettings, *,
               schedule: ScheduleConfig, total_steps: int, seq_len: int,
               device: str | None = None) -> Engine:
        """The engine for a recipe: lr follows ``schedule`` over ``total_steps``."""
        from codekiln_train.schedule import lr_multiplier

        def lr_at(step: int) -> float:
            return float(lr_multiplier(schedule, step, total_steps))

        return cls.build(model, config, lr_lambda=lr_at, seq_len=seq_len, device=device)

    @classmethod
    def build(cls, model: torch.nn.Module, config: EngineSettings, *,
              lr_lambda: Callable[[int], float], seq_len: int,
              device: str | None = None) -> Engine:
        """The engine for any lr multiplier function (``lr = config.lr * lr_lambda(step)``)."""
        import deepspeed
        import torch

        setup = engine_setup(config, seq_len=seq_len, device=device)
        if config.activation_checkpointing:
            enable_activation_checkpointing(model)
        optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.lr,
                                      betas=(float(config.betas[0]), float(config.betas[1])),
                                      eps=config.eps)

        def scheduler(opt: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
            return torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)

        wrapped, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer,
                                                lr_scheduler=scheduler,
                                                config=setup.deepspeed_config,
                                                dist_init_required=False)
        if setup.world_size == 1 and config.zero_stage == 0:
            # One process: nothing to all-reduce; DeepSpeed would still flatten, "reduce" and
            # copy back every gradient each step (measurable on a CPU at 26M parameters).
            wrapped.enable_backward_allreduce = False
        return cls(wrapped, device=setup.device, dtype=setup.dtype, rank=setup.rank,
                   world_size=setup.world_size,
                   gradient_accumulation_steps=setup.gradient_accumulation_steps,
                   zero_stage=int(config.zero_stage), self_clip=setup.self_clip)

    def at_boundary(self) -> bool:
        """True when the next ``backward`` completes an optimizer step's micro-batches."""
        return bool(self.wrapped.is_gradient_accumulation_boundary())

    def backward(self, loss: torch.Tensor) -> None:
        """Backward one micro-batch; DeepSpeed divides by the accumulation steps."""
        boundary = self.at_boundary()
        self.wrapped.backward(loss)
        if not boundary:
            self.wrapped.step()  # only advances DeepSpeed's micro-step counter

    def step(self) -> StepStats:
        """Clip, apply the update, advance the schedule; call after the boundary backward."""
        import torch

        if not self.at_boundary():
            raise RuntimeError("Engine.step() before the last micro-batch of the step; call "
                               "backward() gradient_accumulation_steps times first")
        lr = float(self.wrapped.get_lr()[0])
        norm: float | None = None
        if self._self_clip is not None:
            total = torch.nn.utils.clip_grad_norm_(self.module.parameters(), self._self_clip)
            norm = float(total)
        self.wrapped.step()
        if norm is None:
            reported = self.wrapped.get_global_grad_norm()
            norm = float(reported) if reported is not None else float("nan")
        return StepStats(step=self.optimizer_steps, grad_norm=norm, lr=lr)

    def train(self, mode: bool = True) -> None:
        self.wrapped.train(mode)

    def save(self, directory: Path, client_state: dict[str, Any]) -> None:
        """Write a checkpoint directory atomically; every rank must call it."""
        from codekiln_train.engine.checkpoint_io import save_engine_checkpoint

        save_engine_checkpoint(self, Path(directory), client_state)

    def load(self, directory: Path) -> dict[str, Any]:
        """Restore weights, optimizer and scheduler; returns this rank's client state."""
        from codekiln_train.engine.checkpoint_io import load_engine_checkpoint

        return load_engine_checkpoint(self, Path(directory))


@dataclass(frozen=True)
class EngineSetup:
    """The process group joined and the DeepSpeed config an engine will get: what loading
    released weights under ZeRO-3 needs before the engine exists (they load straight into
    the partitions)."""

    device: torch.device
    dtype: torch.dtype  # bf16 or fp32, as the precision resolves on this device
    rank: int
    world_size: int
    gradient_accumulation_steps: int
    self_clip: float | None  # stage 0 in fp32: the engine clips (and keeps the norm) itself
    deepspeed_config: dict[str, Any]


def engine_setup(config: EngineSettings, *, seq_len: int,
                 device: str | None = None) -> EngineSetup:
    """Join (or start) the process group and resolve precision, accumulation and the
    DeepSpeed config; calling it again returns the same."""
    import torch

    use_cuda = cuda_usable() if device is None else device == "cuda"
    ensure_distributed_env(device="cuda" if use_cuda else "cpu")
    import deepspeed

    rank, local_rank, world_size = world()
    if not torch.distributed.is_initialized():
        deepspeed.init_distributed(dist_backend="nccl" if use_cuda else "gloo",
                                   auto_mpi_discovery=False)
    if use_cuda:
        torch.cuda.set_device(local_rank)
    torch_device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    precision = resolve_precision(config.precision, torch_device.type)
    gas = accumulation_steps(config, seq_len=seq_len, world_size=world_size)
    self_clip = config.grad_clip if (config.zero_stage == 0 and precision == "fp32"
                                     and config.grad_clip > 0) else None
    ds_config = deepspeed_config(config, precision=precision, gradient_accumulation=gas,
                                 world_size=world_size, clip_in_deepspeed=self_clip is None)
    return EngineSetup(device=torch_device,
                       dtype=torch.bfloat16 if precision == "bf16" else torch.float32,
                       rank=rank, world_size=world_size, gradient_accumulation_steps=gas,
                       self_clip=self_clip, deepspeed_config=ds_config)


def enable_activation_checkpointing(model: torch.nn.Module) -> None:
    """Recompute each decoder layer in backward (HF models: non-reentrant checkpointing)."""
    enable = getattr(model, "gradient_checkpointing_enable", None)
    if enable is None:
        from codekiln_core.errors import ConfigError

        raise ConfigError("engine.activation_checkpointing: the model has no "
                          "gradient_checkpointing_enable(); set it to false")
    enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    config = getattr(model, "config", None)
    if config is not None:
        config.use_cache = False
