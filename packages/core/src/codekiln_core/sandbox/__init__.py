"""Code-execution sandbox: run untrusted programs with hard limits and a verdict taxonomy.

Stdlib only. ``LocalSandbox`` runs on this machine through warm worker processes;
``SandboxFusionSandbox`` sends the same requests to a remote SandboxFusion ``/run_code``.

The public names are loaded on first use: each worker imports this package too, and every
module it holds (``urllib``/``ssl`` for the remote client, threads for the pool) makes each
per-run fork of the worker slower.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, {name: f"{__name__}.{home}" for name, home in _HOMES.items()},
                           globals())
