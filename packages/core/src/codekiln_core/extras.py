"""Optional parts of codekiln-core: a missing one is a one-line error naming the extra.

A plugin needs only the base install (hooks, registry, stage protocols, config, the CLI
contract); lineage (mlflow), the OpenAI-compatible client and the data helpers are extras
that every stage package pulls in through ``codekiln-core[all]``.
"""

from __future__ import annotations

import importlib.util

from codekiln_core.errors import CodekilnError

#: The extra of codekiln-core that provides each optional top-level module.
EXTRA_OF = {"mlflow": "lineage", "matplotlib": "lineage", "openai": "clients",
            "numpy": "data", "zstandard": "data", "codekiln_benchmark_data": "data"}


class MissingExtraError(CodekilnError):
    """An optional dependency of codekiln-core is not installed."""


def require(module: str, purpose: str) -> None:
    """Raise a one-line error when ``module`` (one of :data:`EXTRA_OF`) is not installed."""
    if importlib.util.find_spec(module) is not None:
        return
    extra = EXTRA_OF[module]
    hint = " (or pass --no-lineage)" if extra == "lineage" else ""
    raise MissingExtraError(f"{purpose} needs {module}, which is not installed; install "
                            f"codekiln-core[{extra}] (pip install 'codekiln-core[{extra}]')"
                            f"{hint}")
