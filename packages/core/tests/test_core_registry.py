"""The registry facade; also the per-hook tests that docs/plugin-hooks.md requires.

Every hook in hookspecs.py must have a test named ``test_<hook name>...`` somewhere in the
repo's tests (enforced by test_core_hook_docs.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from codekiln_core.errors import DuplicateNameError, RegistryError, UnknownNameError
from codekiln_core.hookspecs import hookimpl
from codekiln_core.plugins import PluginManager
from codekiln_core.registry import KINDS, Registry


class _Registers:
    """A plugin object registering one name for every kind."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @hookimpl
    def codekiln_register_stages(self, register: Any) -> None:
        register(f"{self.prefix}-stage", object, description="a stage")

    @hookimpl
    def codekiln_register_rewards(self, register: Any) -> None:
        register(f"{self.prefix}-reward", lambda *a, **k: 1.0, description="always 1")

    @hookimpl
    def codekiln_register_benchmarks(self, register: Any) -> None:
        register(f"{self.prefix}-bench", dict)

    @hookimpl
    def codekiln_register_engines(self, register: Any) -> None:
        register(f"{self.prefix}-engine", list)

    @hookimpl
    def codekiln_register_generators(self, register: Any) -> None:
        register(f"{self.prefix}-generator", tuple)

    @hookimpl
    def codekiln_register_sandboxes(self, register: Any) -> None:
        register(f"{self.prefix}-sandbox", set)

    @hookimpl
    def codekiln_register_commands(self, register: Any) -> None:
        from codekiln_core.cli import Group

        register(f"{self.prefix}-group", Group(f"{self.prefix}-group", "A group."))


@pytest.fixture
def pm(plugin_manager: PluginManager) -> PluginManager:
    plugin_manager.register(_Registers("alpha"), name="alpha")
    return plugin_manager


@pytest.mark.parametrize(("kind", "suffix"), [("stage", "stage"), ("reward", "reward")])
def test_registrations_are_attributed_to_their_plugin(pm: PluginManager, kind: Any, suffix: str):
    reg = Registry(pm).get(kind, f"alpha-{suffix}")
    assert reg.plugin == "alpha" and reg.kind == kind


def test_codekiln_register_stages(pm: PluginManager):
    stages = Registry(pm).all("stage")
    assert stages["alpha-stage"].obj is object
    assert stages["alpha-stage"].description == "a stage"


def test_codekiln_register_rewards(pm: PluginManager):
    reward = Registry(pm).get("reward", "alpha-reward").obj
    assert reward("src", "sol", "gt", {}) == 1.0


def test_codekiln_register_benchmarks(pm: PluginManager):
    assert Registry(pm).get("benchmark", "alpha-bench").obj is dict


def test_codekiln_register_engines(pm: PluginManager):
    assert Registry(pm).get("engine", "alpha-engine").obj is list


def test_codekiln_register_generators(pm: PluginManager):
    assert Registry(pm).get("generator", "alpha-generator").obj is tuple
    from codekiln_core.plugins import get_plugin_manager

    built_in = Registry(get_plugin_manager()).all("generator")
    assert built_in["openai"].plugin == "core"


def test_codekiln_register_sandboxes(pm: PluginManager):
    assert Registry(pm).get("sandbox", "alpha-sandbox").obj is set


def test_codekiln_register_commands(plugin_manager: PluginManager):
    from pydantic import BaseModel

    from codekiln_core.cli import CliCommand, Command, Group, Outcome
    from codekiln_core.cli.mount import mount_registered

    class Empty(BaseModel):
        pass

    def hello() -> None:
        typer.echo("hi from a plugin")

    class Hello:
        @hookimpl
        def codekiln_register_commands(self, register: Any) -> None:
            register("greet", Group("greet", "Greetings."))
            register("greet.hello", CliCommand("greet.hello", hello))
            register("greet.work", Command("greet.work", Empty, lambda inv: Outcome(),
                                           "Do nothing.", output=None))
            register("greet.misnamed", CliCommand("greet.other", hello))
            register("greet.wrong", hello)

    plugin_manager.register(Hello(), name="hello")
    registry = Registry(plugin_manager)
    commands = registry.all("command")
    assert commands["greet.work"].description == "Do nothing."
    assert {"greet", "greet.hello", "greet.work"} <= set(commands)
    problems = " ".join(str(p) for p in registry.problems())
    assert "its name is 'greet.other'" in problems and "got function" in problems
    app = typer.Typer()
    mount_registered(app, [reg.obj for reg in commands.values()])
    result = CliRunner().invoke(app, ["greet", "hello"])
    assert result.exit_code == 0 and "hi from a plugin" in result.output
    assert "Greetings." in CliRunner().invoke(app, ["greet", "--help"]).output
    assert CliRunner().invoke(app, ["lineage", "--help"]).exit_code == 0


def test_codekiln_register_cli(plugin_manager: PluginManager):
    class Free:
        @hookimpl
        def codekiln_register_cli(self, app: typer.Typer) -> None:
            @app.command("free")
            def free() -> None:
                typer.echo("free-form")

    plugin_manager.register(Free(), name="free")
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        pass

    Registry(plugin_manager).mount_cli(app)
    result = CliRunner().invoke(app, ["free"])
    assert result.exit_code == 0 and "free-form" in result.output


def test_a_plugin_on_the_old_commands_hook_is_told_the_fix(install_plugin: Any):
    from codekiln_core.plugins import get_plugin_manager

    install_plugin("codekiln-old", "ck_old_plugin", """
        from codekiln_core import hookimpl

        @hookimpl
        def codekiln_register_commands(app):
            pass
    """, ep_name="old")
    (failure,) = [f for f in get_plugin_manager(warn=False).failures if f.name == "old"]
    assert "mount a Typer app with codekiln_register_cli(app)" in failure.error


def test_codekiln_stage_started_and_finished(plugin_manager: PluginManager):
    events: list[tuple[str, str, str | None, Mapping[str, Any]]] = []

    class Tracker:
        @hookimpl
        def codekiln_stage_started(self, stage: str, run_id: str | None,
                                   config: Mapping[str, Any]) -> None:
            events.append(("started", stage, run_id, config))

        @hookimpl
        def codekiln_stage_finished(self, stage: str, run_id: str | None,
                                    stats: Mapping[str, Any]) -> None:
            events.append(("finished", stage, run_id, stats))

    plugin_manager.register(Tracker(), name="tracker")
    registry = Registry(plugin_manager)
    registry.stage_started("dedup", "r1", {"threshold": 0.8})
    registry.stage_finished("dedup", "r1", {"kept": 3, "dropped": 1})
    assert events == [
        ("started", "dedup", "r1", {"threshold": 0.8}),
        ("finished", "dedup", "r1", {"kept": 3, "dropped": 1}),
    ]


def test_duplicate_name_names_both_plugins(pm: PluginManager):
    pm.register(_Registers("alpha"), name="beta")
    registry = Registry(pm)
    assert "alpha-engine" not in registry.all("engine")  # contested: owned by neither
    with pytest.raises(DuplicateNameError) as err:
        registry.get("engine", "alpha-engine")
    message = str(err.value)
    assert "'alpha-engine'" in message and "'alpha'" in message and "'beta'" in message
    assert "\n" not in message
    assert len(registry.problems()) == len(KINDS)  # one contested name per kind


@pytest.mark.parametrize("bad", ["Upper", "-dash", "has space", "", "é"])
def test_invalid_names_are_rejected(plugin_manager: PluginManager, bad: str):
    class Bad:
        @hookimpl
        def codekiln_register_stages(self, register: Any) -> None:
            register(bad, object)

    plugin_manager.register(Bad(), name="bad")
    registry = Registry(plugin_manager)
    assert bad not in registry.all("stage")  # left out, not fatal for every other stage
    (problem,) = registry.problems()
    assert isinstance(problem, RegistryError) and "'bad'" in str(problem)


def test_unknown_name_lists_registered_ones(pm: PluginManager):
    with pytest.raises(UnknownNameError) as err:
        Registry(pm).get("sandbox", "nope")
    assert "alpha-sandbox" in str(err.value) and "codekiln plugins list" in str(err.value)


def test_iteration_covers_every_kind(pm: PluginManager):
    kinds = {reg.kind for reg in Registry(pm) if reg.plugin == "alpha"}
    assert kinds == set(KINDS)
