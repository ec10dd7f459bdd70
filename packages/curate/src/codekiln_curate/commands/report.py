"""``codekiln curate report TARGET``: the summary table of a finished run (it inspects, so it
is outside the work contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from codekiln_core.cli.contract import CliCommand


def report_command(
    target: Annotated[str, typer.Argument(help="an output directory or an MLflow run id")],
) -> None:
    """Print the summary table of a finished `codekiln curate run`."""
    from codekiln_core.cli.console import table_console
    from codekiln_curate.console import print_summary

    print_summary(table_console(), load_summary(target))


def load_summary(target: str) -> dict[str, Any]:
    """summary.json from an output directory, or from a curate run's MLflow artifacts."""
    import json

    from codekiln_core.errors import ConfigError

    path = Path(target)
    if path.is_dir():
        summary = path / "summary.json"
        if not summary.is_file():
            raise ConfigError(f"{path} has no summary.json; pass the --output directory of a "
                              "finished `codekiln curate run`")
        return dict(json.loads(summary.read_text(encoding="utf-8")))
    from codekiln_curate.console import summary_from_run

    return summary_from_run(target)


COMMAND = CliCommand("curate.report", report_command,
                     help="Print the summary table of a finished `codekiln curate run`.")
