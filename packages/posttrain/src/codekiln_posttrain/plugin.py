"""codekiln-posttrain's plugin: the ``codekiln posttrain`` commands and the rewards."""

from __future__ import annotations

from codekiln_core.hookspecs import Register, hookimpl


@hookimpl
def codekiln_register_commands(register: Register) -> None:
    from codekiln_core.cli.modules import register_modules

    register_modules(register, "codekiln_posttrain.commands")


@hookimpl
def codekiln_register_rewards(register: Register) -> None:
    from codekiln_posttrain.rewards.code_tests import CodeTestsReward
    from codekiln_posttrain.rewards.format import FormatReward

    register("code-tests", CodeTestsReward,
             description="run the prompt's tests in the sandbox: binary or pass fraction")
    register("format", FormatReward,
             description="1.0 when the answer has a fenced code block (and <think> if asked)")
