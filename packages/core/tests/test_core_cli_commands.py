"""The CLI pattern every package follows: command_group + mount_modules + shared options."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from codekiln_core.cli.commands import command_group, mount_modules


def _package(root: Path, name: str, modules: dict[str, str]) -> str:
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for module, source in modules.items():
        (pkg / f"{module}.py").write_text(textwrap.dedent(source))
    return name


HELLO = '''
    import typer

    from codekiln_core.cli.options import NoLineage, Overrides, echo_run


    def register(app: typer.Typer) -> None:
        app.command("hello")(hello_command)


    def hello_command(overrides: Overrides = None, no_lineage: NoLineage = False) -> None:
        """Say hello."""
        typer.echo(f"sets={overrides} lineage={not no_lineage}")
        echo_run(None if no_lineage else "abc123")
'''


def test_group_mounts_each_module_and_shares_the_options(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _package(tmp_path, "ck_demo_commands", {"hello": HELLO, "_private": "x = 1\n"})
    group = command_group("Demo group.")
    assert mount_modules(group, package) == ["hello"]
    runner = CliRunner()
    shown = runner.invoke(group, ["hello", "--set", "a=1", "--no-lineage"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == ["sets=['a=1'] lineage=False"]
    recorded = runner.invoke(group, ["hello"])
    assert recorded.output.splitlines()[-1] == "mlflow run: abc123"
    help_text = runner.invoke(group, ["hello", "--help"]).output
    assert "--no-lineage" in help_text and "KEY=VALUE" in help_text
    bare = runner.invoke(group, [])
    assert "hello" in bare.output and "Demo group." in bare.output  # a group, even with one
    sys.modules.pop(f"{package}.hello", None)


def test_a_module_without_register_fails_at_start_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _package(tmp_path, "ck_broken_commands", {"oops": "x = 1\n"})
    with pytest.raises(TypeError, match="oops has no register"):
        mount_modules(typer.Typer(), package)
