"""codekiln-train's plugin: the ``codekiln train`` commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from codekiln_core.hookspecs import Register


@hookimpl
def codekiln_register_commands(register: Register) -> None:
    from codekiln_core.cli.modules import register_modules

    register_modules(register, "codekiln_train.commands")
