"""Code-execution sandbox: run untrusted programs with hard limits and a verdict taxonomy.

Stdlib only. ``LocalSandbox`` runs on this machine through warm worker processes;
``SandboxFusionSandbox`` sends the same requests to a remote SandboxFusion ``/run_code``.

The public names are loaded on first use: each worker imports this package too, and every
module it holds (``urllib``/``ssl`` for the remote client, threads for the pool) makes each
per-run fork of the worker slower.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codekiln_core.sandbox.limits import SandboxLimits
    from codekiln_core.sandbox.local import LocalSandbox
    from codekiln_core.sandbox.remote import SandboxFusionSandbox
    from codekiln_core.sandbox.result import RunRequest, RunResult, Verdict

_HOMES = {
    "LocalSandbox": "local",
    "RunRequest": "result",
    "RunResult": "result",
    "SandboxFusionSandbox": "remote",
    "SandboxLimits": "limits",
    "Verdict": "result",
}

__all__ = [
    "LocalSandbox",
    "RunRequest",
    "RunResult",
    "SandboxFusionSandbox",
    "SandboxLimits",
    "Verdict",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
