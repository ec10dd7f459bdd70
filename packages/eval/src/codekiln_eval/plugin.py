"""codekiln-eval's plugin: the ``codekiln eval`` commands and the benchmarks."""

from __future__ import annotations

from codekiln_core.hookspecs import Register, hookimpl


@hookimpl
def codekiln_register_commands(register: Register) -> None:
    from codekiln_core.cli.modules import register_modules

    register_modules(register, "codekiln_eval.commands")


@hookimpl
def codekiln_register_benchmarks(register: Register) -> None:
    """Each benchmark class; ``cls(data=PATH, **options)`` loads it, offline or from the hub."""
    from codekiln_eval.benchmarks import all_benchmarks, describe

    for cls in all_benchmarks():
        register(cls.name, cls, description=describe(cls))
