"""Module ``__getattr__`` that imports a public name from its home module on first use.

Packages whose import must stay cheap (``codekiln_core`` itself, the sandbox, which every
worker imports) list their names here instead of importing them eagerly (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, homes: Mapping[str, str],
                 namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A ``__getattr__`` for ``package``: name -> the module (absolute) that defines it.

    The value is cached in ``namespace`` (the package's globals), so each name is looked up
    once.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
