"""codekiln core: the contracts every codekiln package and plugin builds on.

What a plugin author needs is importable from here: ``hookimpl`` and ``Register`` (from
:mod:`codekiln_core.hookspecs`), the stage protocols, ``StageOptions`` and ``Document`` (from
:mod:`codekiln_core.stages`). They load on first access, so ``import codekiln_core`` stays
cheap (no pluggy, pydantic, torch, transformers, mlflow, ray or deepspeed).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from codekiln_core.lazy import lazy_getattr

try:
    __version__ = version("codekiln-core")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from codekiln_core.hookspecs import Register, hookimpl
    from codekiln_core.stages import (
        BatchFilter,
        BatchSignalStage,
        Decisions,
        Document,
        Filter,
        FilterResult,
        GlobalStage,
        Reader,
        SignalStage,
        StageOptions,
    )

_LAZY: dict[str, str] = {
    "hookimpl": "codekiln_core.hookspecs",
    "Register": "codekiln_core.hookspecs",
    "BatchFilter": "codekiln_core.stages",
    "BatchSignalStage": "codekiln_core.stages",
    "Decisions": "codekiln_core.stages",
    "Document": "codekiln_core.stages",
    "Filter": "codekiln_core.stages",
    "FilterResult": "codekiln_core.stages",
    "GlobalStage": "codekiln_core.stages",
    "Reader": "codekiln_core.stages",
    "SignalStage": "codekiln_core.stages",
    "StageOptions": "codekiln_core.stages",
}

__all__ = [
    "BatchFilter",
    "BatchSignalStage",
    "Decisions",
    "Document",
    "Filter",
    "FilterResult",
    "GlobalStage",
    "Reader",
    "Register",
    "SignalStage",
    "StageOptions",
    "__version__",
    "hookimpl",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
