"""codekiln-core's own plugin: the run, serve-check, plugins and lineage commands; sandboxes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from codekiln_core.hookspecs import Register


@hookimpl
def codekiln_register_commands(register: Register) -> None:
    from codekiln_core.cli.modules import register_modules

    register_modules(register, "codekiln_core.commands")


@hookimpl
def codekiln_register_sandboxes(register: Register) -> None:
    from codekiln_core.sandbox import LocalSandbox, SandboxFusionSandbox

    register("local", LocalSandbox, description="warm worker pool on this machine (isolated)")
    register("sandbox-fusion", SandboxFusionSandbox, description="remote SandboxFusion /run_code")


@hookimpl
def codekiln_register_generators(register: Register) -> None:
    from codekiln_core.generation.endpoint import EndpointGenerator

    register("openai", EndpointGenerator.from_spec,
             description="any OpenAI-compatible endpoint (the shared client)")
