"""Checkpoint directories of a run: naming, the latest one, pruning, and RNG capture.

A run's checkpoints live in ``<output>/checkpoints/step-00000123``; the engine writes each
atomically, so every directory that has its completion file is whole and resumable.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from codekiln_train.engine.checkpoint_io import COMPLETE

STEP_DIR = re.compile(r"^step-(\d{8})$")


def step_dir(root: Path, step: int) -> Path:
    return root / f"step-{step:08d}"


def complete_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """(step, directory) of every finished checkpoint under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = STEP_DIR.match(child.name)
        if match and child.is_dir() and (child / COMPLETE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(root: Path) -> Path | None:
    found = complete_checkpoints(root)
    return found[-1][1] if found else None


def prune_checkpoints(root: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints; returns what was removed."""
    import shutil

    found = complete_checkpoints(root)
    doomed = [path for _, path in found[: max(0, len(found) - max(1, keep_last))]]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def capture_rng() -> dict[str, Any]:
    """Every RNG a training step can draw from: python, numpy, torch CPU and CUDA."""
    import numpy as np
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) from one recipe seed."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)
