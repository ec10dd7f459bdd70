"""Code-execution sandbox: run untrusted programs with hard limits and a verdict taxonomy.

Stdlib only. ``LocalSandbox`` runs on this machine through warm worker processes;
``SandboxFusionSandbox`` sends the same requests to a remote SandboxFusion ``/run_code``.
"""

from __future__ import annotations

from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.local import LocalSandbox
from codekiln_core.sandbox.remote import SandboxFusionSandbox
from codekiln_core.sandbox.result import RunRequest, RunResult, Verdict

__all__ = [
    "LocalSandbox",
    "RunRequest",
    "RunResult",
    "SandboxFusionSandbox",
    "SandboxLimits",
    "Verdict",
]
