"""Engine checkpoints on disk: DeepSpeed's files plus one client-state file per rank.

The whole directory is written through ``codekiln_core.fsio.atomic_dir``: rank 0 owns the
temp directory and renames it into place only after every rank has written its share, so a
run killed at any moment leaves either the previous checkpoint or the complete new one.
All ranks must see the same filesystem (a shared one on multi-node runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codekiln_train.engine.deepspeed_engine import Engine

COMPLETE = "complete.json"


def broadcast_path(engine: Engine, path: Path | None) -> Path:
    import torch.distributed as dist

    if engine.world_size == 1:
        assert path is not None
        return path
    box: list[Any] = [str(path) if path is not None else None]
    dist.broadcast_object_list(box, src=0)
    return Path(box[0])


def barrier(engine: Engine) -> None:
    if engine.world_size > 1:
        import torch.distributed as dist

        dist.barrier()


def _write_share(engine: Engine, tmp: Path, client_state: dict[str, Any]) -> None:
    import torch

    from codekiln_train.engine.deepspeed_engine import CLIENT_STATE

    engine.wrapped.save_checkpoint(str(tmp.parent), tag=tmp.name, save_latest=False)
    torch.save(client_state, tmp / CLIENT_STATE.format(rank=engine.rank))


def expected_bytes(engine: Engine, directory: Path) -> int:
    """About what the checkpoint at ``directory`` takes (for a disk-full message): the size of
    the newest finished one beside it, else the weights plus fp32 master and Adam moments."""
    from codekiln_core.disk import tree_bytes

    earlier = sorted(d for d in directory.parent.glob("*")
                     if d != directory and (d / COMPLETE).is_file())
    if earlier:
        return tree_bytes(earlier[-1])
    return sum(int(getattr(p, "ds_numel", p.numel())) * (p.element_size() + 12)
               for p in engine.module.parameters())


def save_engine_checkpoint(engine: Engine, directory: Path, client_state: dict[str, Any]) -> None:
    """Write the checkpoint whole or not at all; a full disk is a one-line DiskFullError and
    leaves the checkpoints before it as they were."""
    from codekiln_core.fsio import atomic_dir, atomic_write_json, staged
    from codekiln_train.engine.checkpoint_reshard import batch_geometry

    needed = expected_bytes(engine, directory)
    if engine.rank != 0:
        tmp = broadcast_path(engine, None)
        with staged(directory, expected_bytes=needed):  # rank 0 cleans the shared temp
            _write_share(engine, tmp, client_state)
        barrier(engine)
        barrier(engine)  # rank 0 renames between the two barriers
        return
    with atomic_dir(directory, expected_bytes=needed) as tmp:
        broadcast_path(engine, tmp)
        _write_share(engine, tmp, client_state)
        barrier(engine)
        atomic_write_json(tmp / COMPLETE, batch_geometry(engine))
    barrier(engine)


def load_engine_checkpoint(engine: Engine, directory: Path) -> dict[str, Any]:
    """Restore weights, optimizer and scheduler, at this run's world size where ZeRO allows
    (see ``checkpoint_reshard``); returns this rank's client state. A rank the checkpoint
    did not have continues from rank ``rank % saved world size``'s state (every rank holds
    the same counters and global data position; the RNGs were seeded alike)."""
    import json

    import torch

    from codekiln_core.errors import ConfigError
    from codekiln_train.engine.checkpoint_reshard import (
        batch_geometry,
        check_resumable,
        load_resharded,
    )
    from codekiln_train.engine.deepspeed_engine import CLIENT_STATE

    meta_path = directory / COMPLETE
    if not meta_path.is_file():
        raise ConfigError(f"checkpoint {directory} is incomplete (no {COMPLETE}); delete it "
                          "and resume from the one before")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    check_resumable(batch_geometry(engine), meta, directory)
    saved_world = int(meta["world_size"])
    if saved_world != engine.world_size and engine.zero_stage in (1, 2):
        loaded = load_resharded(engine, directory)
    else:
        loaded, _ = engine.wrapped.load_checkpoint(str(directory.parent), tag=directory.name,
                                                   load_optimizer_states=True,
                                                   load_lr_scheduler_states=True)
    if loaded is None:
        raise ConfigError(f"checkpoint {directory}: DeepSpeed found no model states in it")
    client = directory / CLIENT_STATE.format(rank=engine.rank % saved_world)
    state: dict[str, Any] = torch.load(client, weights_only=False)
    return state
