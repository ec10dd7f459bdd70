"""Learning-rate schedules: linear warmup, then constant, cosine or warmup-stable-decay.

``lr_multiplier`` is a pure function of the step (no state), so a resumed run lands on the
same learning rate, and ``build_scheduler`` wraps it in a ``LambdaLR`` for the engine.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError
from codekiln_train.recipe import ScheduleConfig

if TYPE_CHECKING:
    import torch
    from torch.optim.lr_scheduler import LambdaLR


def decay_steps(cfg: ScheduleConfig, total_steps: int) -> int:
    """Steps of WSD's final decay (0 for the other kinds)."""
    return round(cfg.decay_fraction * total_steps) if cfg.kind == "wsd" else 0


def check_schedule(cfg: ScheduleConfig, total_steps: int, *, source: str = "schedule") -> None:
    """Refuse a schedule whose phases do not fit in ``total_steps``."""
    if total_steps < 0:
        raise ConfigError(f"{source}: the stage has {total_steps} steps; it needs at least 0")
    decay = decay_steps(cfg, total_steps)
    if cfg.warmup_steps + decay > total_steps:
        raise ConfigError(
            f"{source}: warmup_steps {cfg.warmup_steps} + decay {decay} steps "
            f"({cfg.decay_fraction:g} x {total_steps}) exceed the stage's {total_steps} "
            "steps; shorten the warmup or the decay, or raise the token budget")


def _decay(shape: str, progress: float, floor: float) -> float:
    """From 1 at progress 0 to ``floor`` at progress 1."""
    if shape == "cosine":
        fall = 0.5 * (1 - math.cos(math.pi * progress))
    elif shape == "1-sqrt":
        fall = math.sqrt(progress)
    else:
        fall = progress
    return 1 - (1 - floor) * fall


def lr_multiplier(cfg: ScheduleConfig, step: int, total_steps: int) -> float:
    """The lr multiplier at optimizer step ``step`` (0-based) of a ``total_steps`` stage."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.kind == "constant":
        return 1.0
    if cfg.kind == "cosine":
        span = max(1, total_steps - cfg.warmup_steps)
        progress = min(1.0, (step - cfg.warmup_steps + 1) / span)
        return _decay("cosine", progress, cfg.min_lr_ratio)
    decay = decay_steps(cfg, total_steps)
    start = total_steps - decay
    if decay == 0 or step < start:
        return 1.0
    progress = min(1.0, (step - start + 1) / decay)
    return _decay(cfg.decay_shape, progress, cfg.min_lr_ratio)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: ScheduleConfig,
                    total_steps: int) -> LambdaLR:
    """A ``LambdaLR`` over ``optimizer``'s lr (the stage's peak) following ``cfg``."""
    from torch.optim.lr_scheduler import LambdaLR

    check_schedule(cfg, total_steps)
    return LambdaLR(optimizer, lambda step: lr_multiplier(cfg, step, total_steps))
