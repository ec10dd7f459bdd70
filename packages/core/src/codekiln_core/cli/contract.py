"""What a command is: the objects packages and plugins register through
``codekiln_register_commands``.

A :class:`Command` does work and follows the one contract every such command shares::

    codekiln <group> <command> [RECIPE] [INPUT]... [--set KEY=VALUE]... [--FIELD VALUE]...
                               [--output PATH] [--resume] [--register NAME] [--no-lineage]

Its recipe is a pydantic model; each top-level field of a plain type is also a ``--field``
flag whose help is the field's description. Core parses the command line, validates the
recipe, applies the output rule, opens the lineage run and fires the lifecycle hooks; the
command's ``work`` function only does the work (see :mod:`codekiln_core.cli.invoke`).

A :class:`Group` names and explains a command group; a :class:`CliCommand` is a command
outside the contract (one that inspects or serves rather than produces), mounted as the
Typer function it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from codekiln_core.cli.invoke import Invocation
    from codekiln_core.lineage.command import Input

R = TypeVar("R", bound=BaseModel)

#: What ``--output`` names: a directory, a single file, or nothing (the flag is absent).
OutputKind = Literal["dir", "file"]
#: The first positional argument, when it is a recipe file, or ``--recipe`` (old spelling).
RECIPE = "<recipe>"
#: An old ``--force``: replace an existing output instead of refusing it.
REPLACE_OUTPUT = "<replace-output>"


@dataclass(frozen=True)
class Alias:
    """An old spelling kept for one release: a hidden option that prints one deprecation line.

    ``target`` is the recipe key it sets (``RECIPE`` for the recipe file itself,
    ``REPLACE_OUTPUT`` for an old ``--force`` that replaced an existing output).
    ``kind``: ``value`` sets the key to the option's value; ``values`` to the list of its
    (repeated) values; ``flag`` sets it to true; ``item`` takes ``K=V`` and sets
    ``target.K`` (repeatable).
    """

    names: tuple[str, ...]
    target: str
    kind: Literal["value", "values", "flag", "item"] = "value"
    hint: str = ""  # what to write instead, e.g. "pass the recipe as the first argument"


@dataclass(frozen=True)
class Outcome:
    """What the work produced, for the closing summary and the pipeline's table.

    ``metrics`` are the headline numbers (shown as a table unless ``table`` is given, and
    the source of the pipeline's key metrics); ``table`` is any rich renderable; ``lines``
    are printed after it (``output: DIR``, ``model: URI``); ``exit_code`` non-zero fails the
    command after its lineage run is closed.
    """

    metrics: Mapping[str, Any] = field(default_factory=dict)
    table: Any = None
    lines: Sequence[str] = ()
    exit_code: int = 0


@dataclass(frozen=True)
class Command(Generic[R]):
    """A registered command that does work (see the module docstring for its shape)."""

    name: str  # dotted: "train.pretrain" is `codekiln train pretrain`
    recipe: type[R]
    work: Callable[[Invocation[R]], Outcome]
    help: str
    #: What ``--output`` names; None: the command writes nothing of its own (no flag).
    output: OutputKind | None = "dir"
    output_key: str = "output"  # the recipe key ``--output`` sets
    #: Recipe key of the positional INPUT... arguments (a list field takes several).
    inputs: str | None = None
    #: The command can register its model: ``--register NAME`` sets the recipe's
    #: ``register_as`` key; False: it registers nothing (no flag).
    registers: bool = False
    #: ``--resume`` continues an interrupted run in the output; False: the flag is absent
    #: (the command writes its output atomically or starts over).
    resumable: bool = True
    #: Metrics the pipeline's summary table shows for a step of this command.
    key_metrics: tuple[str, ...] = ()
    #: Short name a pipeline step may use as its ``kind`` (e.g. ``pretrain``).
    step: str | None = None
    #: Recipe fields offered as ``--field`` flags; None: every top-level plain field.
    flags: tuple[str, ...] | None = None
    #: One-letter flags, by recipe key (e.g. ``{"benchmark": "-b"}``).
    short: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[Alias, ...] = ()
    #: Reads the recipe (file or None, plus ``KEY=VALUE`` overrides); None: plain YAML.
    load: Callable[[Path | None, Sequence[str]], R] | None = None
    #: The lineage inputs of a validated recipe; None: the values of ``inputs``.
    lineage_inputs: Callable[[R], Iterable[Input]] | None = None
    #: Called after validation, before any lineage: may replace the process (a launcher
    #: that starts one process per rank re-runs this command in each).
    launch: Callable[[Invocation[R]], None] | None = None

    @property
    def words(self) -> tuple[str, ...]:
        """The CLI path: ``("train", "pretrain")``."""
        return tuple(self.name.split("."))


@dataclass(frozen=True)
class Group:
    """A command group (``codekiln curate ...``): its help text."""

    name: str
    help: str


@dataclass(frozen=True)
class CliCommand:
    """A command outside the work contract, mounted as the Typer function it is
    (``codekiln lineage show``, ``codekiln serve``: they inspect or serve)."""

    name: str
    function: Callable[..., Any]
    help: str = ""


Registered = Command[Any] | Group | CliCommand
