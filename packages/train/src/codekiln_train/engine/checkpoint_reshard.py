"""Resuming a checkpoint at another world size: what ZeRO allows, and the refusals.

The global batch (sequences per optimizer step) is what must survive a change of world
size: the data stream's position, the lr schedule and the step count all count in it. When
it is the same, the weights and optimizer state are the same whatever the number of ranks,
and only their layout on disk differs:

- ZeRO-0 keeps whole copies: DeepSpeed's model-states file loads at any world size.
- ZeRO-1/2 shard the optimizer per rank; DeepSpeed reads such shards only at the world size
  that wrote them, so rank 0 first converts them to DeepSpeed's universal (per-parameter)
  layout in a temp directory beside the checkpoint, every rank loads its new slice from it,
  and the temp directory is removed. The checkpoint itself is never modified.
- ZeRO-3 also shards the parameters; it resumes only at the world size that wrote it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_train.engine.deepspeed_engine import Engine


def batch_geometry(engine: Engine) -> dict[str, int]:
    """What ``complete.json`` records of the batch, to compare on resume."""
    micro = int(engine.wrapped.train_micro_batch_size_per_gpu())
    return {"world_size": engine.world_size, "zero_stage": engine.zero_stage,
            "micro_batch_size": micro,
            "gradient_accumulation_steps": engine.gradient_accumulation_steps,
            "global_batch": micro * engine.gradient_accumulation_steps * engine.world_size}


def _shape(geometry: dict[str, Any]) -> str:
    world = int(geometry["world_size"])
    processes = f"{world} process{'es' if world != 1 else ''}"
    return (f"{geometry['global_batch']} sequences per step ({processes} x micro-batch "
            f"{geometry['micro_batch_size']} x accumulation "
            f"{geometry['gradient_accumulation_steps']})")


def check_resumable(now: dict[str, int], saved: dict[str, Any], directory: Path) -> None:
    """Refuse, in one line and before loading anything, what cannot continue exactly:
    ``now`` is this run's :func:`batch_geometry`, ``saved`` the checkpoint's."""
    saved_world = int(saved["world_size"])
    if int(saved.get("zero_stage", now["zero_stage"])) != now["zero_stage"]:
        raise ConfigError(f"checkpoint {directory} was written with ZeRO stage "
                          f"{saved['zero_stage']}, this run has engine.zero_stage="
                          f"{now['zero_stage']}; resume with engine.zero_stage="
                          f"{saved['zero_stage']}")
    if "global_batch" in saved and int(saved["global_batch"]) != now["global_batch"]:
        tokens = "engine.global_batch_tokens (it keeps the batch at any world size)"
        raise ConfigError(f"checkpoint {directory} trained {_shape(saved)}, this run "
                          f"{_shape(now)}; set {tokens} or resume with "
                          f"{saved_world} processes and the same batch settings")
    if saved_world != now["world_size"] and now["zero_stage"] == 3:
        raise ConfigError(f"checkpoint {directory} was written by {saved_world} processes "
                          f"with ZeRO-3, which shards the weights themselves and resumes only "
                          f"at that world size; relaunch with {saved_world} processes (ZeRO "
                          f"0-2 resume at any world size)")


def load_resharded(engine: Engine, directory: Path) -> str | None:
    """Load a ZeRO-1/2 checkpoint written at another world size (see the module doc);
    returns what DeepSpeed's ``load_checkpoint`` does (None: no model states found)."""
    import shutil

    from codekiln_core.fsio import temp_sibling
    from codekiln_train.engine.checkpoint_io import barrier, broadcast_path

    barrier(engine)  # every rank has finished removing stale temps before rank 0 makes one
    universal: Path | None = None
    if engine.rank == 0:
        universal = temp_sibling(directory.with_name(f"{directory.name}-universal"))
        _convert_to_universal(directory, universal / directory.name)
    universal = broadcast_path(engine, universal)
    config = engine.wrapped._config
    config.load_universal_checkpoint = True
    try:
        loaded, _ = engine.wrapped.load_checkpoint(str(universal), tag=directory.name,
                                                   load_optimizer_states=True,
                                                   load_lr_scheduler_states=True)
    finally:
        config.load_universal_checkpoint = False
        barrier(engine)
        if engine.rank == 0:
            shutil.rmtree(universal, ignore_errors=True)
    return None if loaded is None else str(loaded)


def _convert_to_universal(directory: Path, out: Path) -> None:
    """DeepSpeed's ds_to_universal in this process, quietly, one worker (no fork under
    torch.distributed)."""
    import argparse
    import contextlib
    import io

    from deepspeed.checkpoint.ds_to_universal import main as ds_to_universal

    out.parent.mkdir(parents=True, exist_ok=True)
    args = argparse.Namespace(input_folder=str(directory), output_folder=str(out),
                              num_extract_workers=1, num_merge_workers=1,
                              keep_temp_folder=False, strict=True, inject_missing_state=True)
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            ds_to_universal(args)
    except Exception as exc:  # DeepSpeed raises bare asserts and RuntimeErrors here
        raise ConfigError(f"checkpoint {directory}: converting its ZeRO shards to another "
                          f"world size failed ({type(exc).__name__}: {exc}); resume with "
                          "the world size that wrote it") from exc
