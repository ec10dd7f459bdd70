"""Running a registered command: the one path every work command takes.

1. the recipe is read and validated (one-line errors, before anything heavy);
2. the output rule: an existing non-empty output is refused unless ``--resume``; an output
   that cannot be written is refused before any work;
3. the command's ``launch`` may replace the process (one process per rank);
4. the work runs inside the command's lineage run (:func:`lineage_command`, which fires
   ``codekiln_run_started`` / ``codekiln_run_finished``); only rank 0 records;
5. the closing summary: the outcome's table or metrics, its lines, the MLflow run id.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.typer_command import Request
from codekiln_core.config import apply_override, read_yaml_mapping, validate
from codekiln_core.errors import ConfigError
from codekiln_core.fsio import check_writable

if TYPE_CHECKING:
    from codekiln_core.lineage.command import Input
    from codekiln_core.lineage.run import LineageRun

R = TypeVar("R", bound=BaseModel)

#: Sources with one of these schemes are references, not local paths that must exist.
URI_SCHEMES = ("runs:/", "models:/", "http://", "https://", "hf://", "s3://", "gs://",
               "bundled:")


@dataclass
class Invocation(Generic[R]):
    """What the work function gets: the validated recipe, the run to log to, and how it
    was asked to run."""

    command: Command[R]
    recipe: R
    request: Request
    run: LineageRun
    rank: int = 0

    @property
    def resume(self) -> bool:
        return self.request.resume

    @property
    def recipe_file(self) -> Path | None:
        return self.request.recipe_file

    @property
    def output(self) -> Path | None:
        """The recipe's output path (None for commands without one)."""
        if self.command.output is None:
            return None
        value = getattr(self.recipe, self.command.output_key, None)
        return Path(value) if value is not None else None

    @property
    def records(self) -> bool:
        """Whether this process records lineage and prints the summary (rank 0 only)."""
        return self.rank == 0


def process_rank() -> int:
    """This process's rank under torchrun or the DeepSpeed launcher (0 otherwise)."""
    value = os.environ.get("RANK", "0")
    return int(value) if value.isdigit() else 0


def load_command_recipe(command: Command[R], request: Request) -> R:
    """The validated recipe: file (or the model's defaults) plus every override."""
    if command.load is not None:
        return command.load(request.recipe_file, request.overrides)
    return load_or_defaults(command.recipe, request.recipe_file, request.overrides,
                            source="codekiln " + " ".join(command.words))


def load_or_defaults(model: type[R], path: Path | None, overrides: Sequence[str], *,
                     source: str) -> R:
    """Read ``path`` (or start from no keys) and apply ``KEY=VALUE`` overrides."""
    data: dict[str, Any] = read_yaml_mapping(path) if path is not None else {}
    for override in overrides:
        apply_override(data, override)
    return validate(data, model, source=str(path) if path is not None else source)


def check_output(command: Command[Any], output: Path | None, *, resume: bool) -> None:
    """Refuse an existing non-empty output without ``--resume``; refuse an unwritable one."""
    if command.output is None or output is None:
        return
    if _non_empty(output) and not resume:
        if command.resumable:
            ways = "pass --resume to continue the run there, or choose a new --output"
        else:
            ways = "choose a new --output, or remove it to start over (this command " \
                   "writes its output whole and does not resume)"
        raise ConfigError(f"{output}: the output exists and is not empty; {ways}")
    check_writable(output if command.output == "dir" else output.parent)


def remove_output(path: Path) -> None:
    """What an old ``--force`` did: the existing output goes before the run starts."""
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _non_empty(path: Path) -> bool:
    if path.is_dir():
        return any(path.iterdir())
    return path.exists() and (not path.is_file() or path.stat().st_size > 0)


def default_inputs(command: Command[Any], recipe: BaseModel) -> list[Input]:
    """The values of the command's INPUT key, checked to exist when they are local paths."""
    if command.inputs is None:
        return []
    value = getattr(recipe, command.inputs)
    items = value if isinstance(value, list | tuple) else [value]
    found: list[Input] = []
    for item in items:
        if item is None:
            continue
        text = str(item)
        if not text.startswith(URI_SCHEMES) and not Path(text).exists():
            raise ConfigError(f"{command.inputs} {text!r}: no such file or directory; "
                              "pass an existing path")
        found.append(item if isinstance(item, Path) else text)
    return found


def invoke(command: Command[R], request: Request) -> int:
    """Run ``command`` as ``request`` asks; returns the exit status."""
    from codekiln_core.lineage.command import lineage_command
    from codekiln_core.lineage.run import LineageRun

    recipe = load_command_recipe(command, request)
    invocation = Invocation(command, recipe, request, LineageRun(None), process_rank())
    if invocation.records:
        if request.replace_output and invocation.output is not None:
            remove_output(invocation.output)
        check_output(command, invocation.output, resume=request.resume)
    inputs: Iterable[Input] = (command.lineage_inputs(recipe) if command.lineage_inputs
                               else default_inputs(command, recipe))
    if command.launch is not None:
        command.launch(invocation)
    from codekiln_core.lineage.resume import earlier_run_id, note_running

    output, resumes = invocation.output, command.resumable and command.output is not None
    with lineage_command(command.name, config=recipe, inputs=inputs,
                         recipe_file=request.recipe_file,
                         enabled=request.lineage and invocation.records,
                         announce=invocation.records,
                         resume_run_id=earlier_run_id(output) if request.resume else None) as run:
        invocation.run = run
        if resumes and output is not None and command.output is not None:
            note_running(output, command.output, run)  # a later --resume continues this run
        outcome = command.work(invocation)
        run.outcome_metrics = dict(outcome.metrics)
    if invocation.records:
        print_closing(command, outcome, run.run_id)
    return outcome.exit_code


def print_closing(command: Command[Any], outcome: Outcome, run_id: str | None) -> None:
    """The closing table (or the metrics as one), the outcome's lines, the run id."""
    import typer

    from codekiln_core.cli.console import table_console

    table = outcome.table if outcome.table is not None else metrics_table(
        f"codekiln {' '.join(command.words)}", outcome.metrics)
    if table is not None:
        table_console().print(table)
    for line in outcome.lines:
        typer.echo(line)
    if run_id:
        typer.echo(f"mlflow run: {run_id}")


def metrics_table(title: str, metrics: dict[str, Any] | Any) -> Any:
    """A two-column rich table of ``metrics`` (None when there are none)."""
    if not metrics:
        return None
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(str(key), f"{value:.4g}" if isinstance(value, float) else str(value))
    return table
