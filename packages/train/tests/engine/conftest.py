"""Fixtures of the engine tests: the stand-ins module, one torch thread, DeepSpeed's env."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def standins() -> ModuleType:
    spec = importlib.util.spec_from_file_location("engine_standins", HERE / "standins.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True, scope="session")
def _deepspeed_env() -> Iterator[None]:
    """Shared JIT-op cache (the shm op builds once) and one thread per process."""
    os.environ.setdefault("TORCH_EXTENSIONS_DIR",
                          str(Path.home() / ".cache" / "codekiln" / "torch_extensions"))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
