"""Register a package's commands from its ``commands`` package: one command per module.

A package's plugin hook is then one line::

    @hookimpl
    def codekiln_register_commands(register):
        register_modules(register, "codekiln_train.commands")

Each module (subpackages included: ``commands/data/pairs.py``) defines ``COMMAND``; a
package's ``__init__`` may define ``GROUP`` for its group's help. Adding a command never
edits a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from codekiln_core.hookspecs import Register


def register_modules(register: Register, package: str) -> list[str]:
    """Register every ``GROUP`` and ``COMMAND`` under ``package``; returns their names."""
    names: list[str] = []
    for module in _walk(importlib.import_module(package)):
        found = [getattr(module, attr) for attr in ("GROUP", "COMMAND") if hasattr(module, attr)]
        if not found and not hasattr(module, "__path__"):
            raise TypeError(f"{module.__name__} defines no COMMAND; every command module "
                            "must define one")
        for item in found:
            register(item.name, item)
            names.append(item.name)
    return names


def _walk(package: ModuleType) -> list[ModuleType]:
    modules = [package]
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        modules.extend(_walk(module) if info.ispkg else [module])
    return modules
