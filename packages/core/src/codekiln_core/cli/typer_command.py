"""A registered :class:`Command` as a Typer command: the contract's flags, one flag per plain
recipe field, hidden deprecated aliases; what the user typed becomes a :class:`Request`."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from codekiln_core.cli.contract import RECIPE, REPLACE_OUTPUT, Alias, Command
from codekiln_core.cli.flags import FieldFlag, field_flags, is_list_field
from codekiln_core.errors import ConfigError

RECIPE_SUFFIXES = (".yaml", ".yml")


@dataclass
class Request:
    """One invocation as typed: the recipe file and every override, in precedence order
    (recipe file < ``--set`` < field flags < INPUT... < ``--output`` < ``--register``)."""

    recipe_file: Path | None = None
    overrides: list[str] = field(default_factory=list)
    resume: bool = False
    lineage: bool = True
    replace_output: bool = False  # an old --force: the existing output is removed first


def typer_function(command: Command[Any]) -> Callable[..., None]:
    """A function whose signature Typer reads as ``command``'s options and arguments."""
    flags = list(field_flags(command.recipe, command.flags, _skipped_keys(command)))
    params = [_positional(command), _param("sets", list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="override any recipe key (dotted; value parsed "
        "as YAML), e.g. --set engine.lr=1e-5"))]
    params += [_field_param(index, flag, command.short.get(flag.key))
               for index, flag in enumerate(flags)]
    params += _contract_params(command)
    params += [_alias_param(index, alias) for index, alias in enumerate(command.aliases)]

    def entry(**values: Any) -> None:
        from codekiln_core.cli.invoke import invoke

        code = invoke(command, request_from(command, flags, values))
        if code:
            raise typer.Exit(code)

    entry.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    entry.__doc__ = command.help
    entry.__name__ = command.name.replace(".", "_").replace("-", "_")
    return entry


def request_from(command: Command[Any], flags: list[FieldFlag],
                 values: dict[str, Any]) -> Request:
    """Turn Typer's parsed values back into the recipe file and ordered overrides."""
    request = Request(resume=bool(values.get("resume")),
                      lineage=not values.get("no_lineage", False))
    late: list[str] = []
    for index, alias in enumerate(command.aliases):
        late += _apply_alias(alias, values.get(f"alias_{index}"), request)
    positional = values.get("positional")
    inputs: list[str] = []
    if command.inputs is None:
        if positional is not None:
            request.recipe_file = Path(positional)
    else:
        items = list(positional or [])
        if items and items[0].lower().endswith(RECIPE_SUFFIXES):
            request.recipe_file = Path(items.pop(0))
        inputs = items
    request.overrides += list(values.get("sets") or []) + late
    for index, flag in enumerate(flags):
        value = values.get(f"field_{index}")
        if value is not None and value not in ([], ()):
            request.overrides.append(f"{flag.key}={json.dumps(value)}")
    if inputs:
        assert command.inputs is not None
        many = is_list_field(command.recipe, command.inputs)
        if not many and len(inputs) > 1:
            raise ConfigError(f"codekiln {' '.join(command.words)}: takes one "
                              f"{command.inputs.upper()}, got {len(inputs)}: {inputs}")
        request.overrides.append(f"{command.inputs}="
                                 f"{json.dumps(inputs if many else inputs[0])}")
    if values.get("output") is not None:
        request.overrides.append(f"{command.output_key}={json.dumps(str(values['output']))}")
    if values.get("register") is not None and command.registers:
        request.overrides.append(f"register_as={json.dumps(values['register'])}")
    return request


def _apply_alias(alias: Alias, value: Any, request: Request) -> list[str]:
    if value is None or value is False or value in ([], ()):
        return []
    hint = f"; {alias.hint}" if alias.hint else ""
    print(f"codekiln: {alias.names[0]} is deprecated and will be removed in the next "
          f"release{hint}", file=sys.stderr)
    if alias.target == RECIPE:
        request.recipe_file = Path(value)
        return []
    if alias.target == REPLACE_OUTPUT:
        request.replace_output = True
        return []
    if alias.kind == "flag":
        return [f"{alias.target}=true"]
    if alias.kind == "item":
        out = []
        for item in value:
            key, sep, text = str(item).partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"{alias.names[0]} {item!r}: use KEY=VALUE")
            out.append(f"{alias.target}.{key.strip()}={json.dumps(text.strip())}")
        return out
    return [f"{alias.target}={json.dumps(value)}"]


def _skipped_keys(command: Command[Any]) -> frozenset[str]:
    """Keys with a contract flag of their own (``--output``, ``--register``, INPUT...)."""
    keys = {command.output_key} if command.output else set()
    keys |= {"register_as"} if command.registers else set()
    keys |= {command.inputs} if command.inputs else set()
    return frozenset(keys)


def _param(name: str, annotation: Any, info: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[annotation, info])


def _positional(command: Command[Any]) -> inspect.Parameter:
    if command.inputs is None:
        return _param("positional", str | None, typer.Argument(
            metavar="RECIPE", show_default=False,
            help="recipe YAML; omitted: the defaults (see the recipe keys below)"))
    name = command.inputs.upper()
    return _param("positional", list[str] | None, typer.Argument(
        metavar=f"[RECIPE] {name}...", show_default=False,
        help=f"an optional recipe YAML (*.yaml, *.yml) first, then {name}: "
             f"{command.recipe.model_fields[command.inputs].description or ''}".rstrip(": ")))


def _field_param(index: int, flag: FieldFlag, short: str | None) -> inspect.Parameter:
    names = [flag.flag, *([short] if short else [])]
    if flag.is_bool:
        names = [f"{flag.flag}/--no-{flag.flag[2:]}", *([short] if short else [])]
        return _param(f"field_{index}", bool | None, typer.Option(*names, help=flag.help,
                                                                  show_default=False))
    kind = list[str] | None if flag.many else str | None
    about = f"{flag.help} (repeatable)" if flag.many else flag.help
    return _param(f"field_{index}", kind, typer.Option(*names, metavar=flag.metavar,
                                                       help=about, show_default=False))


def _contract_params(command: Command[Any]) -> list[inspect.Parameter]:
    params = []
    if command.output is not None:
        what = "file" if command.output == "file" else "directory"
        info = command.recipe.model_fields.get(command.output_key)
        about = info.description if info is not None and info.description else f"output {what}"
        rule = "new or empty unless --resume" if command.resumable else "new or empty"
        params.append(_param("output", str | None, typer.Option(
            "--output", "-o", metavar="PATH", show_default=False,
            help=f"{about}; must be {rule}")))
    if command.resumable and command.output is not None:
        params.append(_param("resume", bool, typer.Option(
            "--resume", help="continue the interrupted run in --output"), default=False))
    if command.registers:
        params.append(_param("register", str | None, typer.Option(
            "--register", metavar="NAME", show_default=False,
            help="register the resulting model under NAME in the MLflow registry")))
    params.append(_param("no_lineage", bool, typer.Option(
        "--no-lineage", help="do not record this run in MLflow lineage (no store is created)"),
        default=False))
    return params


def _alias_param(index: int, alias: Alias) -> inspect.Parameter:
    if alias.kind == "flag":
        return _param(f"alias_{index}", bool, typer.Option(*alias.names, hidden=True),
                      default=False)
    kind = list[str] | None if alias.kind in ("item", "values") else str | None
    return _param(f"alias_{index}", kind, typer.Option(*alias.names, hidden=True))


def rerun_argv(command: Command[Any], request: Request, *more: str) -> list[str]:
    """The command line that runs ``request`` again (a launcher starting one process per
    rank runs it in each): the command's words, the recipe, every override as ``--set``
    (``more`` last), and the flags that are not recipe keys."""
    argv = list(command.words)
    if request.recipe_file is not None:
        argv.append(str(request.recipe_file))
    for override in [*request.overrides, *more]:
        argv += ["--set", override]
    if request.resume:
        argv.append("--resume")
    if not request.lineage:
        argv.append("--no-lineage")
    return argv


def parse_command_line(command: Command[Any], words: list[str]) -> Request:
    """The request ``codekiln <command> WORDS...`` makes, parsed exactly as the CLI does
    (a pipeline step's command line, checked without running it)."""
    import typer.main

    flags = list(field_flags(command.recipe, command.flags, _skipped_keys(command)))
    app = typer.Typer()
    app.command()(typer_function(command))
    context = typer.main.get_command(app).make_context(command.name, list(words))
    return request_from(command, flags, dict(context.params))
