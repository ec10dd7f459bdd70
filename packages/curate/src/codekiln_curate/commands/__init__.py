"""``codekiln curate`` sub-commands, one module each, each with ``register(app)``.

Mounted by ``codekiln_core.cli.commands.mount_modules``, so a new command never edits a
shared file. Modules must stay light to import (``codekiln --help`` loads them): heavy
imports go inside the command functions.
"""
