"""A command's flags, derived from its recipe model: one ``--field`` per plain top-level field.

The flag's help is the field's description, so ``--help``, the recipe's docs and its error
messages say the same thing. A flag's value goes into the recipe as the raw string it was
typed as (pydantic converts it), a repeated flag as a list, ``--x/--no-x`` as a bool; so a
bad value fails in the recipe's validation with the usual one-line error naming the key.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePath
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

#: Keys the contract's own flags set; never offered twice as field flags.
CONTRACT_KEYS = frozenset({"set", "resume", "no_lineage"})


@dataclass(frozen=True)
class FieldFlag:
    """One recipe field as a CLI option."""

    key: str  # the recipe key
    flag: str  # --max-tokens
    metavar: str  # INT, PATH, [spm|psm], …
    help: str
    is_bool: bool = False
    many: bool = False  # repeatable: the field is a list


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def field_flags(model: type[BaseModel], only: tuple[str, ...] | None,
                skip: frozenset[str]) -> Iterator[FieldFlag]:
    """The flags of ``model``'s plain top-level fields (``only``: just these, in order)."""
    names = only if only is not None else tuple(model.model_fields)
    for key in names:
        info = model.model_fields[key]
        if key in skip or key in CONTRACT_KEYS:
            continue
        found = _flag_for(key, info)
        if found is None and only is not None:
            raise TypeError(f"{model.__name__}.{key} cannot be a flag (not a plain type)")
        if found is not None:
            yield found


def _flag_for(key: str, info: FieldInfo) -> FieldFlag | None:
    annotation = _strip_optional(info.annotation)
    many = get_origin(annotation) in (list, tuple, set, frozenset)
    item = _strip_optional(get_args(annotation)[0]) if many and get_args(annotation) \
        else annotation
    metavar = _metavar(item)
    if metavar is None:
        return None
    is_bool = metavar == "BOOL"
    return FieldFlag(key=key, flag=flag_name(key), metavar=metavar,
                     help=describe_field(info), is_bool=is_bool and not many, many=many)


def describe_field(info: FieldInfo) -> str:
    """The field's description and its default, as one help text."""
    text = (info.description or "").strip()
    if info.is_required():
        return f"{text} (required)".strip()
    default = info.get_default(call_default_factory=True)
    if default is None or default == [] or default == {}:
        return text
    shown = default.value if isinstance(default, Enum) else default
    if isinstance(shown, PurePath):
        shown = str(shown)
    return f"{text} (default: {shown})".strip()


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _metavar(annotation: Any) -> str | None:
    """How a value of this type is shown in help; None: not a plain type."""
    if get_origin(annotation) is Literal:
        return "[" + "|".join(str(a) for a in get_args(annotation)) + "]"
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "BOOL"
        if issubclass(annotation, Enum):
            return "[" + "|".join(str(m.value) for m in annotation) + "]"
        for kind, metavar in ((int, "INT"), (float, "FLOAT"), (PurePath, "PATH"),
                              (str, "TEXT")):
            if issubclass(annotation, kind):
                return metavar
    return None


def is_list_field(model: type[BaseModel], key: str) -> bool:
    """True when the recipe key holds a list (several positional inputs go in)."""
    annotation = _strip_optional(model.model_fields[key].annotation)
    return get_origin(annotation) in (list, tuple, set, frozenset)

