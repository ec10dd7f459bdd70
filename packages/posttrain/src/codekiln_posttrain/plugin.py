"""codekiln-posttrain's plugin: mounts ``codekiln posttrain`` and registers the rewards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_posttrain.cli import posttrain_app

    app.add_typer(posttrain_app, name="posttrain")


@hookimpl
def codekiln_register_rewards(register: Register) -> None:
    from codekiln_posttrain.rewards.code_tests import CodeTestsReward
    from codekiln_posttrain.rewards.format import FormatReward

    register("code-tests", CodeTestsReward,
             description="run the prompt's tests in the sandbox: binary or pass fraction")
    register("format", FormatReward,
             description="1.0 when the answer has a fenced code block (and <think> if asked)")
