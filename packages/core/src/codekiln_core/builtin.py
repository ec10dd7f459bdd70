"""codekiln-core's own plugin: the plugins, lineage, run and serve-check commands; sandboxes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer

    from codekiln_core.hookspecs import Register


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_core.cli.lineage_cmd import lineage_app
    from codekiln_core.cli.plugins_cmd import plugins_app
    from codekiln_core.cli.run_cmd import register as register_run
    from codekiln_core.pipeline.serve_check import register as register_serve_check

    app.add_typer(plugins_app, name="plugins")
    app.add_typer(lineage_app, name="lineage")
    register_run(app)
    register_serve_check(app)


@hookimpl
def codekiln_register_sandboxes(register: Register) -> None:
    from codekiln_core.sandbox import LocalSandbox, SandboxFusionSandbox

    register("local", LocalSandbox, description="warm worker pool on this machine (isolated)")
    register("sandbox-fusion", SandboxFusionSandbox, description="remote SandboxFusion /run_code")
