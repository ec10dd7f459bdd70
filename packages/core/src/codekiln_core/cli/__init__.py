"""The one ``codekiln`` console script and the command contract every command follows.

``Command`` (work with a typed recipe), ``Group`` and ``CliCommand`` are what packages and
plugins register through ``codekiln_register_commands`` (:mod:`codekiln_core.cli.contract`);
a work function receives an ``Invocation`` and returns an ``Outcome``
(:mod:`codekiln_core.cli.invoke`). Names load on first use, so importing this package is
cheap: no torch, transformers, mlflow, ray or deepspeed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.lazy import lazy_getattr

if TYPE_CHECKING:
    from codekiln_core.cli.app import build_app, main
    from codekiln_core.cli.contract import (
        RECIPE,
        REPLACE_OUTPUT,
        Alias,
        CliCommand,
        Command,
        Group,
        Outcome,
    )
    from codekiln_core.cli.invoke import Invocation

_LAZY = {
    "build_app": "codekiln_core.cli.app",
    "main": "codekiln_core.cli.app",
    "Alias": "codekiln_core.cli.contract",
    "CliCommand": "codekiln_core.cli.contract",
    "Command": "codekiln_core.cli.contract",
    "Group": "codekiln_core.cli.contract",
    "Outcome": "codekiln_core.cli.contract",
    "RECIPE": "codekiln_core.cli.contract",
    "REPLACE_OUTPUT": "codekiln_core.cli.contract",
    "Invocation": "codekiln_core.cli.invoke",
}
__all__ = ["RECIPE", "REPLACE_OUTPUT", "Alias", "CliCommand", "Command", "Group", "Invocation",
           "Outcome", "build_app", "main"]

__getattr__ = lazy_getattr(__name__, _LAZY, globals())
