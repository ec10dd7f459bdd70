"""Root app and the error boundary that turns failures into one-line messages."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer

from codekiln_core.cli.mount import mount_registered
from codekiln_core.errors import CodekilnError
from codekiln_core.plugins import PluginManager, get_plugin_manager, use_plugin_manager
from codekiln_core.registry import Registry
from codekiln_core.versions import installed_versions

VERBOSE_ENV = "CODEKILN_VERBOSE"

HELP = """codekiln: curate code data with a code model, then pretrain, post-train, serve
and evaluate code LLMs, with MLflow lineage from raw repository to checkpoint."""


def _print_versions(value: bool) -> None:
    if not value:
        return
    for dist, ver in installed_versions().items():
        typer.echo(f"{dist} {ver}")
    raise typer.Exit()


def build_app(pm: PluginManager | None = None) -> typer.Typer:
    """The root CLI with every plugin's commands mounted."""
    app = typer.Typer(
        name="codekiln",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_print_versions, is_eager=True,
            help="Print the version of every installed codekiln package and plugin.",
        ),
        verbose: bool = typer.Option(
            False, "--verbose", "-v", help="Show full tracebacks on errors."
        ),
    ) -> None:
        """Options shared by every command; --verbose is read by main()'s error boundary."""

    # A fresh manager each time (tests build the CLI many times in one process); the
    # commands' lifecycle hooks run on the same one.
    manager = pm if pm is not None else get_plugin_manager()
    use_plugin_manager(manager)
    registry = Registry(manager)
    mount_registered(app, [reg.obj for reg in registry.all("command").values()])
    registry.mount_cli(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns (and exits with) the process status."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args or "-v" in args or os.environ.get(VERBOSE_ENV) == "1"
    command = typer.main.get_command(build_app())
    try:
        # Without standalone mode click *returns* the code of a typer.Exit raised inside a
        # command instead of raising it; a command's own return value is not a status.
        status = command.main(args=args, prog_name="codekiln", standalone_mode=False)
    except CodekilnError as exc:
        return _fail(exc, exc.exit_code, verbose)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("codekiln: interrupted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:  # usage errors from typer's bundled click
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except Exception as exc:
        return _fail(exc, 1, verbose, unexpected=True)
    return status if isinstance(status, int) and not isinstance(status, bool) else 0


def _fail(exc: BaseException, code: int, verbose: bool, *, unexpected: bool = False) -> int:
    if verbose:
        traceback.print_exception(exc)
    prefix = f"unexpected {type(exc).__name__}: " if unexpected else ""
    hint = "" if verbose else " (rerun with --verbose for the traceback)"
    print(f"error: {prefix}{exc}{hint if unexpected else ''}", file=sys.stderr)
    return code


def run() -> None:  # pragma: no cover - thin wrapper for `python -m`
    sys.exit(main())
