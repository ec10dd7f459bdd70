"""Typed facade over the hook relay: the only place that calls ``pm.hook``.

Each registration hook is called plugin by plugin with a ``register`` callback bound to that
plugin, so every name is validated and attributed, and a duplicate names both plugins.
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

Kind = Literal["stage", "reward", "benchmark", "engine", "sandbox"]
KINDS: tuple[Kind, ...] = ("stage", "reward", "benchmark", "engine", "sandbox")
_HOOK_FOR_KIND: dict[Kind, str] = {
    "stage": "codekiln_register_stages",
    "reward": "codekiln_register_rewards",
    "benchmark": "codekiln_register_benchmarks",
    "engine": "codekiln_register_engines",
    "sandbox": "codekiln_register_sandboxes",
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

    def all(self, kind: Kind) -> Mapping[str, Registration]:
        """Every registration of ``kind`` by name (collected on first use)."""
        if kind not in self._cache:
            self._cache[kind] = self._collect(kind)
        return self._cache[kind]

    def get(self, kind: Kind, name: str) -> Registration:
        """The registration of ``name``, or a one-line error listing the known names."""
        found = self.all(kind)
        if name not in found:
            raise UnknownNameError(kind, name, list(found))
        return found[name]

    def by_plugin(self) -> dict[str, list[Registration]]:
        """Registrations grouped by plugin name, for ``codekiln plugins list``."""
        grouped: dict[str, list[Registration]] = {}
        for kind in KINDS:
            for reg in self.all(kind).values():
                grouped.setdefault(reg.plugin, []).append(reg)
        return grouped

    def mount_commands(self, app: typer.Typer) -> None:
        """Let every plugin mount its sub-app on the root CLI."""
        for impl in self._pm.hook.codekiln_register_commands.get_hookimpls():
            impl.function(app=app)

    def stage_started(self, stage: str, run_id: str | None, config: Mapping[str, Any]) -> None:
        self._pm.hook.codekiln_stage_started(stage=stage, run_id=run_id, config=config)

    def stage_finished(self, stage: str, run_id: str | None, stats: Mapping[str, Any]) -> None:
        self._pm.hook.codekiln_stage_finished(stage=stage, run_id=run_id, stats=stats)

    def _collect(self, kind: Kind) -> dict[str, Registration]:
        found: dict[str, Registration] = {}
        caller = getattr(self._pm.hook, _HOOK_FOR_KIND[kind])
        # get_hookimpls() is in registration order (first-party first, then entry points
        # sorted by name), so ownership of a contested name is deterministic.
        for impl in caller.get_hookimpls():
            impl.function(register=self._register_callback(kind, impl.plugin_name, found))
        return found

    @staticmethod
    def _register_callback(
        kind: Kind, plugin: str, found: dict[str, Registration]
    ) -> Callable[..., None]:
        def register(name: str, obj: Any, /, *, description: str = "") -> None:
            if not isinstance(name, str) or not _VALID_NAME.match(name):
                raise RegistryError(
                    f"plugin {plugin!r} registered {kind} name {name!r}; names must match "
                    f"{_VALID_NAME.pattern} (lowercase letters, digits, '-', '_', '.')"
                )
            if obj is None:
                raise RegistryError(f"plugin {plugin!r} registered {kind} {name!r} as None")
            if name in found:
                raise DuplicateNameError(kind, name, found[name].plugin, plugin)
            found[name] = Registration(kind, name, obj, plugin, description)

        return register

    def __iter__(self) -> Iterator[Registration]:
        for kind in KINDS:
            yield from self.all(kind).values()
