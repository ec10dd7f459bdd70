"""From the recipe's engine section to a DeepSpeed config dict and AdamW parameter groups.

Kept free of heavy imports except inside functions, so recipe validation and the launcher
command can use it before torch is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    import torch


class EngineSettings(Protocol):
    """The fields of ``codekiln_train.recipe.EngineConfig`` the engine reads.

    A protocol, so SFT/DPO recipes can bring their own engine section with the same fields.
    """

    @property
    def zero_stage(self) -> int: ...
    @property
    def precision(self) -> str: ...
    @property
    def micro_batch_size(self) -> int: ...
    @property
    def global_batch_tokens(self) -> int | None: ...
    @property
    def gradient_accumulation_steps(self) -> int | None: ...
    @property
    def grad_clip(self) -> float: ...
    @property
    def activation_checkpointing(self) -> bool: ...
    @property
    def lr(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def betas(self) -> tuple[float, float]: ...
    @property
    def eps(self) -> float: ...


def resolve_precision(precision: str, device_type: str) -> str:
    """``auto`` is bf16 on a GPU and fp32 on a CPU; bf16 on CPU is refused (slow, untested)."""
    if precision == "auto":
        return "bf16" if device_type == "cuda" else "fp32"
    if precision == "bf16" and device_type != "cuda":
        raise ConfigError("engine.precision: bf16 needs a GPU; use fp32 (or auto) on CPU")
    if precision not in ("fp32", "bf16"):
        raise ConfigError(f"engine.precision: {precision!r} is not one of auto, fp32, bf16")
    return precision


def accumulation_steps(settings: EngineSettings, *, seq_len: int, world_size: int) -> int:
    """Micro-steps per optimizer step so one step sees ``global_batch_tokens`` tokens."""
    per_micro = settings.micro_batch_size * seq_len * world_size
    if settings.global_batch_tokens is None:
        return max(1, int(settings.gradient_accumulation_steps or 1))
    tokens = int(settings.global_batch_tokens)
    if tokens % per_micro:
        lower = max(per_micro, tokens // per_micro * per_micro)
        raise ConfigError(
            f"engine.global_batch_tokens={tokens} is not a multiple of micro_batch_size x "
            f"seq_len x world_size = {settings.micro_batch_size} x {seq_len} x {world_size} = "
            f"{per_micro}; use {lower} or {lower + per_micro}")
    return tokens // per_micro


def deepspeed_config(settings: EngineSettings, *, precision: str, gradient_accumulation: int,
                     world_size: int, clip_in_deepspeed: bool) -> dict[str, Any]:
    """The DeepSpeed JSON config; the optimizer and scheduler are passed in as objects.

    ``clip_in_deepspeed`` is False for stage 0 in fp32, where DeepSpeed clips but does not
    report the norm: the engine clips itself there and keeps the norm.
    """
    if settings.zero_stage not in (0, 1, 2, 3):
        raise ConfigError(f"engine.zero_stage: {settings.zero_stage!r}; choose 0, 1, 2 or 3")
    zero: dict[str, Any] = {"stage": int(settings.zero_stage)}
    if settings.zero_stage == 3:
        # Gather the full weights when saving, so the checkpoint's module file is usable.
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    return {
        "train_micro_batch_size_per_gpu": int(settings.micro_batch_size),
        "gradient_accumulation_steps": int(gradient_accumulation),
        "train_batch_size": int(settings.micro_batch_size) * gradient_accumulation * world_size,
        "gradient_clipping": float(settings.grad_clip) if clip_in_deepspeed else 0.0,
        "zero_optimization": zero,
        "bf16": {"enabled": precision == "bf16"},
        "fp16": {"enabled": False},
        # A torch optimizer is passed in: nothing JIT-builds fused_adam.
        "zero_allow_untested_optimizer": True,
        "steps_per_print": 1 << 30,
        "wall_clock_breakdown": False,
    }


def no_decay(name: str, param: torch.nn.Parameter) -> bool:
    """Norm weights and biases (1-D tensors) get no weight decay, as in GPT/Llama training."""
    return param.ndim < 2 or name.endswith(".bias")


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two AdamW groups: matrices (embeddings included) with decay, norms/biases without."""
    decay: list[torch.nn.Parameter] = []
    plain: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (plain if no_decay(name, param) else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": plain, "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]
