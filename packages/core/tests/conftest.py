"""Shared by core's tests: a third-party plugin with one contract command, installed as
users install plugins (a ``.dist-info`` entry point on ``sys.path`` and ``PYTHONPATH``, so
pipeline steps run as subprocesses find it too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codekiln_core import plugins

DEMO = '''
from pathlib import Path

from pydantic import Field

from codekiln_core import hookimpl
from codekiln_core.cli import Alias, Command, Group, Outcome
from codekiln_core.config import RecipeModel

EVENTS = []


class CountRecipe(RecipeModel):
    """Count the lines of some files."""

    files: list[Path] = Field(description="text files to count")
    output: Path = Field(description="directory for counts.json")
    min_length: int = Field(0, ge=0, description="skip lines shorter than this")
    strip: bool = Field(True, description="strip whitespace before measuring")
    fail: bool = Field(False, description="raise after counting (for the FAILED path)")


def count_lines(invocation):
    recipe = invocation.recipe
    counts = {}
    for path in recipe.files:
        lines = path.read_text().splitlines()
        lines = [line.strip() if recipe.strip else line for line in lines]
        counts[path.name] = sum(len(line) >= recipe.min_length for line in lines)
    recipe.output.mkdir(parents=True, exist_ok=True)
    (recipe.output / "counts.json").write_text(__import__("json").dumps(counts))
    invocation.run.log_metrics({"loss": 1.0 / (2 + invocation.resume)},
                               step=1 + invocation.resume)
    if recipe.fail and not invocation.resume:
        raise RuntimeError("asked to fail")
    invocation.run.log_output(recipe.output, name="counts")
    return Outcome(metrics={"lines": sum(counts.values())},
                   lines=[f"resumed: {invocation.resume}"])


@hookimpl
def codekiln_register_commands(register):
    register("demo", Group("demo", "Demo commands."))
    register("demo.count", Command(
        name="demo.count", recipe=CountRecipe, work=count_lines, help="Count lines.",
        inputs="files", step="count", key_metrics=("lines",),
        aliases=(Alias(("--min",), "min_length", hint="use --min-length"),)))


@hookimpl
def codekiln_run_started(command, run_id, recipe):
    EVENTS.append(("started", command, run_id, dict(recipe)))


@hookimpl
def codekiln_run_finished(command, run_id, status, metrics):
    EVENTS.append(("finished", command, run_id, status, dict(metrics)))
'''


@pytest.fixture
def demo(install_plugin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[object]:
    """The demo plugin installed, and the CLI's plugin manager rebuilt to find it."""
    import importlib

    install_plugin("codekiln-demo", "ck_demo_plugin", DEMO, ep_name="demo")
    monkeypatch.setattr(plugins, "_shared", None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("one\n  two  \nx\n")
    module = importlib.import_module("ck_demo_plugin")
    yield module
    monkeypatch.setattr(plugins, "_shared", None)
