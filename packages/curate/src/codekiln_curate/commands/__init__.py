"""Further ``codekiln curate`` sub-commands, one module each.

Every module here defines ``register(app: typer.Typer) -> None`` and is mounted on the curate
group at start-up, so a new command never edits a shared file. Modules must stay light to
import (``codekiln --help`` loads them): heavy imports go inside the command functions.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def mount_all(app: typer.Typer) -> None:
    """Import every module of this package (sorted by name) and let it register commands."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(app)
