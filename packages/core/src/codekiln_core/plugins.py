"""Plugin discovery: first-party defaults, then the ``codekiln`` entry-point group.

A plugin that fails to import is reported in one line with its name and the fix, and left
out; every unrelated command keeps working.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

import pluggy

from codekiln_core import hookspecs

ENTRY_POINT_GROUP = "codekiln"
DISABLE_ENV = "CODEKILN_DISABLE_PLUGINS"
BUILTIN_PLUGINS = {"core": "codekiln_core.builtin"}


@dataclass(frozen=True)
class PluginInfo:
    """Where a loaded plugin came from, for ``codekiln plugins list``."""

    name: str
    distribution: str
    version: str
    module: str


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    name: str
    distribution: str
    error: str

    def message(self) -> str:
        return (
            f"codekiln: plugin {self.name!r} ({self.distribution}) failed to load: {self.error}; "
            f"fix: reinstall it (`uv sync` / `pip install -U {self.distribution}`) or skip it with "
            f"{DISABLE_ENV}={self.name}"
        )


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers where plugins came from and which failed."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.infos: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []
        #: Plugins left out by ``CODEKILN_DISABLE_PLUGINS``, shown as blocked by ``plugins list``.
        self.blocked: dict[str, PluginInfo] = {}


def disabled_plugin_names(environ: os._Environ[str] | dict[str, str] | None = None) -> set[str]:
    """Names (entry-point or distribution) blocked by ``CODEKILN_DISABLE_PLUGINS``."""
    raw = (environ if environ is not None else os.environ).get(DISABLE_ENV, "")
    return {part.strip() for part in raw.replace(";", ",").split(",") if part.strip()}


def get_plugin_manager(*, load_entrypoints: bool = True, warn: bool = True) -> PluginManager:
    """A fresh plugin manager: specs, first-party defaults, entry points, then validation."""
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    blocked = disabled_plugin_names()
    for name, module_name in BUILTIN_PLUGINS.items():
        _register_builtin(pm, name, module_name)
    if load_entrypoints:
        for ep in _sorted_entry_points():
            _load_entry_point(pm, ep, blocked)
    _check_pending(pm)
    if warn:
        for failure in pm.failures:
            print(failure.message(), file=sys.stderr)
    return pm


_shared: PluginManager | None = None


def shared_plugin_manager() -> PluginManager:
    """The process's plugin manager, built once (the CLI's, and the lifecycle hooks')."""
    global _shared
    if _shared is None:
        _shared = get_plugin_manager()
    return _shared


def use_plugin_manager(pm: PluginManager) -> None:
    """Make ``pm`` the process's plugin manager (the CLI built on it, or a test's)."""
    global _shared
    _shared = pm


def _register_builtin(pm: PluginManager, name: str, module_name: str) -> None:
    import importlib

    from codekiln_core import __version__

    module = importlib.import_module(module_name)
    pm.register(module, name=name)
    pm.infos[name] = PluginInfo(name, "codekiln-core", __version__, module_name)


def _sorted_entry_points() -> list[EntryPoint]:
    # Sorted by name, then distribution, so registration order (and so which of two plugins
    # of one name is kept) never depends on filesystem order.
    return sorted(entry_points(group=ENTRY_POINT_GROUP),
                  key=lambda ep: (ep.name, ep.dist.name if ep.dist else "", ep.value))


def _load_entry_point(pm: PluginManager, ep: EntryPoint, blocked: set[str]) -> None:
    dist_name = ep.dist.name if ep.dist is not None else "unknown distribution"
    dist_version = ep.dist.version if ep.dist is not None else "?"
    if ep.name in blocked or dist_name in blocked:
        pm.set_blocked(ep.name)
        pm.blocked[ep.name] = PluginInfo(ep.name, dist_name, dist_version, ep.value)
        return
    if pm.has_plugin(ep.name):  # a second plugin of the same name: the first keeps it
        first = pm.infos.get(ep.name)
        owner = first.distribution if first else "another plugin"
        taken = f"plugin name {ep.name!r} is already taken by {owner}; rename the entry point"
        pm.failures.append(PluginFailure(ep.name, dist_name, taken))
        return
    try:
        plugin = ep.load()
        pm.register(plugin, name=ep.name)
    except pluggy.PluginValidationError as exc:
        pm.failures.append(PluginFailure(ep.name, dist_name, _explain(exc)))
        return
    except Exception as exc:  # a broken third-party plugin must not break the CLI
        pm.failures.append(PluginFailure(ep.name, dist_name, _one_line(exc)))
        return
    module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    pm.infos[ep.name] = PluginInfo(ep.name, dist_name, dist_version, module)


def _check_pending(pm: PluginManager) -> None:
    """Drop (and report) plugins that implement hooks codekiln does not define."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            info = pm.infos.pop(name, None)
            pm.unregister(exc.plugin)
            dist = info.distribution if info else "unknown distribution"
            pm.failures.append(PluginFailure(name, dist, _explain(exc)))


def _explain(exc: pluggy.PluginValidationError) -> str:
    """The validation error, with the fix for the one hook whose signature changed."""
    text = _one_line(exc)
    if "codekiln_register_commands" in text and "'app'" in text:
        return (f"{text}; codekiln_register_commands now receives register (commands are "
                "registered objects): mount a Typer app with codekiln_register_cli(app) "
                "instead")
    return text


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
