"""The shape of every package's CLI: one command group, one module per command.

A package's ``cli.py`` is two lines of substance::

    from codekiln_core.cli.commands import command_group, mount_modules

    train_app = command_group("Train code LLMs: the quality scorer, pretraining.")
    mount_modules(train_app, "codekiln_train.commands")

and each ``codekiln_train/commands/<name>.py`` defines ``register(app)``::

    def register(app: typer.Typer) -> None:
        app.command("pretrain")(pretrain_command)

so adding a command never edits a shared file. Command modules are imported for
``codekiln --help``: keep them light and import heavy code inside the command function.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def command_group(help_text: str) -> typer.Typer:
    """A sub-command group (``codekiln <group> ...``) with the settings every group shares.

    It stays a group (``codekiln train scorer``, never ``codekiln train``) even while it holds
    a single command, and prints its help when called bare.
    """
    group = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)

    @group.callback()
    def _group() -> None:
        pass

    _group.__doc__ = help_text
    return group


def mount_modules(app: typer.Typer, package: str) -> list[str]:
    """Import each module of ``package`` (sorted by name) and call its ``register(app)``.

    Returns the module names mounted. A module without ``register`` is a programming error
    and fails loudly at start-up rather than silently dropping its commands.
    """
    root = importlib.import_module(package)
    names = sorted(info.name for info in pkgutil.iter_modules(root.__path__)
                   if not info.name.startswith("_"))
    for name in names:
        module = importlib.import_module(f"{package}.{name}")
        register = getattr(module, "register", None)
        if not callable(register):
            raise TypeError(f"{package}.{name} has no register(app) function; every command "
                            "module must define one")
        register(app)
    return names
