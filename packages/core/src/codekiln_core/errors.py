"""Errors that reach users as one line: what was wrong, where, and how to fix it."""

from __future__ import annotations


class CodekilnError(Exception):
    """Base for every error the CLI prints as one line (the traceback only with --verbose)."""

    exit_code: int = 2


class ConfigError(CodekilnError):
    """A recipe or option is invalid; raised before any heavy work starts."""


class RegistryError(CodekilnError):
    """A plugin registered something invalid, or a name is unknown."""


class DuplicateNameError(RegistryError):
    """Two plugins registered the same name for the same kind."""

    def __init__(self, kind: str, name: str, first_plugin: str, second_plugin: str) -> None:
        self.kind, self.name = kind, name
        self.first_plugin, self.second_plugin = first_plugin, second_plugin
        super().__init__(
            f"{kind} name {name!r} is registered by both plugin {first_plugin!r} and plugin "
            f"{second_plugin!r}; rename one, or block one with "
            f"CODEKILN_DISABLE_PLUGINS={second_plugin}"
        )


class UnknownNameError(RegistryError):
    """A recipe or command names a stage/benchmark/... that no plugin registered."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        choices = ", ".join(sorted(known)) or "none registered"
        super().__init__(
            f"unknown {kind} {name!r}; registered {kind}s: {choices} "
            f"(see `codekiln plugins list`)"
        )


class DiskFullError(CodekilnError):
    """A write ran out of space (ENOSPC/EDQUOT); the message names the path and the bytes."""


class LineageError(CodekilnError):
    """A lineage reference (run id, models:/ URI) cannot be resolved."""
