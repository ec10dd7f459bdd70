"""The DeepSpeed training engine (one process by default; DeepSpeed's launcher at scale)."""

from __future__ import annotations

from codekiln_train.engine.environment import ensure_distributed_env

__all__ = ["ensure_distributed_env"]
