"""A trained model as a standard Hugging Face checkpoint, loadable without codekiln.

safetensors weights, ``config.json``, the shards' tokenizer and a ``generation_config.json``
that stops at EOS. Under ZeRO-3 every rank holds a slice of each weight: all ranks gather
them together and rank 0 writes. The directory appears atomically (``atomic_dir``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    import torch

#: Files a tokenizer directory may hold; we copy them through transformers (it normalises).
TOKENIZER_MARKER = "tokenizer.json"


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """CPU copies of every weight; ZeRO-3 partitions are gathered first (all ranks call)."""
    params = list(model.parameters())
    if any(hasattr(p, "ds_id") for p in params):
        import deepspeed

        with deepspeed.zero.GatheredParameters(params, modifier_rank=None):
            return _cpu_copies(model.state_dict())
    return _cpu_copies(model.state_dict())


def _cpu_copies(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One copy per tensor storage: tied weights (an embedding shared with the LM head) stay
    one tensor, which ``save_pretrained`` then writes once, as the model expects on load."""
    copies: dict[tuple[int, int, tuple[int, ...]], torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(),
               tuple(tensor.shape))
        if key not in copies:
            copies[key] = tensor.detach().cpu().clone()
        out[name] = copies[key]
    return out


def _is_rank_zero() -> bool:
    import torch.distributed as dist

    return not dist.is_initialized() or dist.get_rank() == 0


def export_hf(model: torch.nn.Module, *, tokenizer_dir: Path, out_dir: Path,
              bos_token_id: int, eos_token_id: int, chat_template: str | None = None,
              pad_token_id: int | None = None, fim_layout: str | None = None) -> Path:
    """Write ``out_dir`` as a Hugging Face causal-LM checkpoint; returns it.

    ``fim_layout`` (spm or psm: what the shards taught) goes into ``config.json``, where
    serving and the infilling evaluations read it (``codekiln_core.fim.trained_fim_layout``).
    Every rank must call this (ZeRO-3 gathers); only rank 0 writes.
    """
    if not (Path(tokenizer_dir) / TOKENIZER_MARKER).is_file():
        raise ConfigError(f"tokenizer {tokenizer_dir}: no {TOKENIZER_MARKER}; pass the "
                          "directory `codekiln curate tokenizer train` wrote")
    state = full_state_dict(model)
    if not _is_rank_zero():
        return Path(out_dir)
    from transformers import AutoTokenizer, GenerationConfig
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # ours is the bar

    from codekiln_core.fim import FIM_LAYOUT_KEY
    from codekiln_core.fsio import atomic_dir

    config: Any = model.config
    unwrapped: Any = model
    weights = sum(t.numel() * t.element_size() for t in state.values())
    with atomic_dir(out_dir, expected_bytes=weights) as tmp:
        config.bos_token_id, config.eos_token_id = bos_token_id, eos_token_id
        if pad_token_id is not None:
            config.pad_token_id = pad_token_id
        if fim_layout is not None:
            setattr(config, FIM_LAYOUT_KEY, fim_layout)
        config.use_cache = True
        unwrapped.save_pretrained(str(tmp), state_dict=state, safe_serialization=True)
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
        if chat_template is not None:
            tokenizer.chat_template = chat_template
        tokenizer.save_pretrained(str(tmp))
        GenerationConfig(  # type: ignore[no-untyped-call]
            bos_token_id=bos_token_id, eos_token_id=eos_token_id,
                         pad_token_id=pad_token_id if pad_token_id is not None
                         else eos_token_id).save_pretrained(str(tmp))
    return Path(out_dir)
