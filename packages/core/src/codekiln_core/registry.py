"""Typed facade over the hook relay: the only place that calls ``pm.hook``.

Each registration hook is called plugin by plugin with a ``register`` callback bound to that
plugin, so every name is validated and attributed, and a duplicate names both plugins.

A bad registration is contained: a name two plugins register is *contested* (neither owns
it; :meth:`Registry.get` of it raises :class:`DuplicateNameError` naming both) and an
invalid one is left out. Both are listed by :meth:`Registry.problems`, which ``codekiln
plugins list`` shows, so only a command that needs the contested name fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from codekiln_core.errors import DuplicateNameError, RegistryError, UnknownNameError

if TYPE_CHECKING:
    import pluggy
    import typer

Kind = Literal["stage", "reward", "benchmark", "engine", "generator", "sandbox", "command"]
KINDS: tuple[Kind, ...] = ("stage", "reward", "benchmark", "engine", "generator", "sandbox",
                           "command")
_HOOK_FOR_KIND: dict[Kind, str] = {
    "stage": "codekiln_register_stages",
    "reward": "codekiln_register_rewards",
    "benchmark": "codekiln_register_benchmarks",
    "engine": "codekiln_register_engines",
    "generator": "codekiln_register_generators",
    "sandbox": "codekiln_register_sandboxes",
    "command": "codekiln_register_commands",
}
_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


@dataclass(frozen=True)
class Registration:
    """One registered name: what it is, who registered it, and the object behind it."""

    kind: Kind
    name: str
    obj: Any
    plugin: str
    description: str = ""


class Registry:
    """Collects registrations from all plugins of a plugin manager, lazily and once per kind."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm
        self._cache: dict[Kind, dict[str, Registration]] = {}
        self._contested: dict[Kind, dict[str, DuplicateNameError]] = {}
        self._invalid: dict[Kind, list[RegistryError]] = {}

    def all(self, kind: Kind) -> Mapping[str, Registration]:
        """Every usable registration of ``kind`` by name (collected on first use); contested
        and invalid names are left out (see :meth:`problems`)."""
        if kind not in self._cache:
            self._collect(kind)
        return self._cache[kind]

    def get(self, kind: Kind, name: str) -> Registration:
        """The registration of ``name``, or a one-line error: the two plugins contesting it,
        or the known names."""
        found = self.all(kind)
        if name in self._contested[kind]:
            raise self._contested[kind][name]
        if name not in found:
            raise UnknownNameError(kind, name, list(found))
        return found[name]

    def problems(self) -> list[RegistryError]:
        """Contested names and invalid registrations of every kind, for diagnostics."""
        found: list[RegistryError] = []
        for kind in KINDS:
            self.all(kind)
            found.extend(self._contested[kind].values())
            found.extend(self._invalid[kind])
        return found

    def by_plugin(self) -> dict[str, list[Registration]]:
        """Registrations grouped by plugin name, for ``codekiln plugins list``."""
        grouped: dict[str, list[Registration]] = {}
        for kind in KINDS:
            for reg in self.all(kind).values():
                grouped.setdefault(reg.plugin, []).append(reg)
        return grouped

    def mount_cli(self, app: typer.Typer) -> None:
        """Let every plugin mount its free-form sub-app on the root CLI."""
        for impl in self._pm.hook.codekiln_register_cli.get_hookimpls():
            impl.function(app=app)

    def run_started(self, command: str, run_id: str | None, recipe: Mapping[str, Any]) -> None:
        self._pm.hook.codekiln_run_started(command=command, run_id=run_id, recipe=recipe)

    def run_finished(self, command: str, run_id: str | None, status: str,
                     metrics: Mapping[str, Any]) -> None:
        self._pm.hook.codekiln_run_finished(command=command, run_id=run_id, status=status,
                                            metrics=metrics)

    def stage_started(self, stage: str, run_id: str | None, config: Mapping[str, Any]) -> None:
        self._pm.hook.codekiln_stage_started(stage=stage, run_id=run_id, config=config)

    def stage_finished(self, stage: str, run_id: str | None, stats: Mapping[str, Any]) -> None:
        self._pm.hook.codekiln_stage_finished(stage=stage, run_id=run_id, stats=stats)

    def _collect(self, kind: Kind) -> None:
        found: dict[str, Registration] = {}
        contested: dict[str, DuplicateNameError] = {}
        invalid: list[RegistryError] = []
        caller = getattr(self._pm.hook, _HOOK_FOR_KIND[kind])
        # get_hookimpls() is in registration order (first-party first, then entry points
        # sorted by name), so the messages about a contested name are deterministic.
        for impl in caller.get_hookimpls():
            register = self._register_callback(kind, impl.plugin_name, found, contested,
                                               invalid)
            impl.function(register=register)
        for name in contested:
            found.pop(name, None)
        self._cache[kind], self._contested[kind], self._invalid[kind] = found, contested, invalid

    @staticmethod
    def _register_callback(
        kind: Kind,
        plugin: str,
        found: dict[str, Registration],
        contested: dict[str, DuplicateNameError],
        invalid: list[RegistryError],
    ) -> Callable[..., None]:
        def register(name: str, obj: Any, /, *, description: str = "") -> None:
            if not isinstance(name, str) or not _VALID_NAME.match(name):
                invalid.append(RegistryError(
                    f"plugin {plugin!r} registered {kind} name {name!r}; names must match "
                    f"{_VALID_NAME.pattern} (lowercase letters, digits, '-', '_', '.')"
                ))
            elif obj is None:
                invalid.append(
                    RegistryError(f"plugin {plugin!r} registered {kind} {name!r} as None")
                )
            elif kind == "command" and (problem := command_problem(name, obj)):
                invalid.append(RegistryError(f"plugin {plugin!r} registered command "
                                             f"{name!r}: {problem}"))
            elif name in found:
                contested.setdefault(
                    name, DuplicateNameError(kind, name, found[name].plugin, plugin)
                )
            else:
                about = description or (_first_line(obj.help) if kind == "command" else "")
                found[name] = Registration(kind, name, obj, plugin, about)

        return register

    def __iter__(self) -> Iterator[Registration]:
        for kind in KINDS:
            yield from self.all(kind).values()


def command_problem(name: str, obj: Any) -> str | None:
    """Why ``obj`` cannot be the command ``name`` (None when it can)."""
    from codekiln_core.cli.contract import CliCommand, Command, Group

    if not isinstance(obj, Command | Group | CliCommand):
        return (f"got {type(obj).__name__}; register a codekiln_core.cli Command, "
                "Group or CliCommand")
    if obj.name != name:
        return f"its name is {obj.name!r}; register it under that name"
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
