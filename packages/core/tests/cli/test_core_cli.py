"""The root CLI: help speed (no heavy imports), versions, plugin listing, error boundary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.hookspecs import hookimpl
from codekiln_core.versions import MEMBERS, installed_versions

HEAVY = ("torch", "transformers", "mlflow", "ray", "deepspeed", "vllm")
#: Sub-command groups of the members installed in this environment (core's own always).
INSTALLED_GROUPS = ["plugins", "lineage"] + [
    dist.removeprefix("codekiln-") for dist in installed_versions() if dist in MEMBERS[1:]
]


def test_help_imports_no_heavy_library():
    probe = (
        "import sys\n"
        "from codekiln_core.cli.app import main\n"
        "code = main(['--help'])\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Usage: codekiln" in done.stdout
    assert "HEAVY=\n" in done.stdout or done.stdout.rstrip().endswith("HEAVY=")
    for group in INSTALLED_GROUPS:
        assert group in done.stdout
    assert "run" in done.stdout.split()  # `codekiln run`, core's pipeline command


def test_version_lists_every_member(capsys: pytest.CaptureFixture[str]):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    from importlib.metadata import version

    for member in ["core", *INSTALLED_GROUPS[2:]]:
        assert f"codekiln-{member} {version(f'codekiln-{member}')}" in out


def test_plugins_list_json(capsys: pytest.CaptureFixture[str]):
    assert main(["plugins", "list", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in report["plugins"]}
    for group in INSTALLED_GROUPS[2:]:
        assert by_name[group]["distribution"] == f"codekiln-{group}"
    assert "codekiln_register_commands" in by_name["core"]["hooks"]
    assert report["failed"] == []


def test_plugins_list_table(capsys: pytest.CaptureFixture[str]):
    assert main(["plugins", "list"]) == 0
    out = capsys.readouterr().out
    assert "codekiln-core" in out and "distribution" in out


class _Failing:
    @hookimpl
    def codekiln_register_cli(self, app: typer.Typer) -> None:
        @app.command("explode")
        def explode() -> None:
            raise ConfigError("recipe.yaml: key 'workers' = 'x': not an integer")

        @app.command("crash")
        def crash() -> None:
            raise ZeroDivisionError("division by zero")


@pytest.fixture
def failing_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from codekiln_core import plugins

    original = plugins.get_plugin_manager

    def with_failing(**kwargs: object) -> plugins.PluginManager:
        pm = original(**kwargs)  # type: ignore[arg-type]
        pm.register(_Failing(), name="failing")
        return pm

    monkeypatch.setattr("codekiln_core.cli.app.get_plugin_manager", with_failing)


def test_codekiln_error_is_one_line(failing_cli: None, capsys: pytest.CaptureFixture[str]):
    assert main(["explode"]) == 2
    err = capsys.readouterr().err
    assert err == "error: recipe.yaml: key 'workers' = 'x': not an integer\n"


def test_verbose_adds_traceback(failing_cli: None, capsys: pytest.CaptureFixture[str]):
    assert main(["--verbose", "explode"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("not an integer")


def test_unexpected_error_suggests_verbose(failing_cli: None,
                                           capsys: pytest.CaptureFixture[str]):
    assert main(["crash"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unexpected ZeroDivisionError")
    assert "--verbose" in err and "\n" not in err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_console_script_runs():
    done = subprocess.run(["codekiln", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "codekiln-core" in done.stdout


def test_exit_code_of_a_command_is_kept() -> None:
    """A command ending in ``typer.Exit(3)`` makes ``main`` return 3, not 0."""
    import typer

    from codekiln_core.cli import app as app_module

    probe = typer.Typer()

    @probe.command("boom")
    def boom() -> None:
        raise typer.Exit(3)

    @probe.command("fine")
    def fine() -> None:
        return None

    original = app_module.build_app
    try:
        app_module.build_app = lambda: probe  # type: ignore[assignment]
        assert app_module.main(["boom"]) == 3
        assert app_module.main(["fine"]) == 0
    finally:
        app_module.build_app = original  # type: ignore[assignment]
