"""YAML recipes validated by pydantic before any heavy import.

Every failure becomes one line naming the file, the key, the bad value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from codekiln_core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class RecipeModel(BaseModel):
    """Base for recipe sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


def load_recipe(path: str | Path, model: type[M], overrides: Sequence[str] = ()) -> M:
    """Read ``path``, apply ``--set key=value`` overrides, and validate against ``model``."""
    source = Path(path)
    data = read_yaml_mapping(source)
    for override in overrides:
        apply_override(data, override)
    return validate(data, model, source=str(source))


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        hint = "it is a directory" if path.is_dir() else "no such file"
        raise ConfigError(f"{path}: cannot read recipe ({hint}); pass the path of a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: {problem}{where}; fix the YAML syntax") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text; save the recipe as UTF-8") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: top level is a {type(data).__name__}; a recipe must be a mapping of keys"
        )
    return data


def apply_override(data: dict[str, Any], override: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as YAML."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"--set {override!r}: expected KEY=VALUE with a dotted key, e.g. --set workers=4"
        )
    parts = key.strip().split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            child = node[_list_index(node, part, override, where)]
        else:
            child = node.setdefault(part, {})
        if not isinstance(child, dict | list):
            raise ConfigError(
                f"--set {override!r}: {where!r} holds {child!r}, not a mapping; "
                f"set {where!r} itself instead"
            )
        node = child
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(node, list):
        node[_list_index(node, parts[-1], override, key.strip())] = value
    else:
        node[parts[-1]] = value


def _list_index(items: list[Any], part: str, override: str, where: str) -> int:
    """``stages.1.lr``: a list item by its 0-based index (must exist)."""
    if not part.isdigit() or int(part) >= len(items):
        raise ConfigError(
            f"--set {override!r}: {where!r} must index a list of {len(items)} item(s) "
            f"with 0..{len(items) - 1}"
        )
    return int(part)


def validate(data: Mapping[str, Any], model: type[M], *, source: str) -> M:
    """Validate ``data``; the first error becomes a one-line :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, model, source)) from exc


def describe_validation_error(
    exc: ValidationError, model: type[BaseModel], source: str, *, prefix: str = ""
) -> str:
    """One line: the file, the dotted key (under ``prefix``), the value and what is allowed."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    key = ".".join([prefix] * bool(prefix) + [str(part) for part in loc]) or "<top level>"
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(allowed_keys(model, loc[:-1])) or "none"
        line = f"{source}: unknown key {key!r}; allowed keys here: {allowed}"
    elif kind == "missing":
        line = f"{source}: key {key!r} is required{field_hint(model, loc)}"
    else:
        value = first.get("input")
        line = f"{source}: key {key!r} = {value!r}: {first['msg']}{field_hint(model, loc)}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return line


def recipe_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The fields of ``model`` by the key a recipe writes (the alias, where a field has one:
    ``from`` for a Python name like ``from_``)."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        fields = recipe_fields(current) if current is not None else {}
        if current is None or not isinstance(part, str) or part not in fields:
            return None if isinstance(part, str) else current
        current = _first_model(fields[part].annotation)
    return current


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def allowed_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    target = _model_at(model, loc)
    return sorted(recipe_fields(target)) if target is not None else []


def field_hint(model: type[BaseModel], loc: Sequence[Any]) -> str:
    """`` (what the field is)`` from its description, when the schema has one."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    parent = _model_at(model, loc[:-1])
    fields = recipe_fields(parent) if parent is not None else {}
    if loc[-1] not in fields:
        return ""
    description = fields[loc[-1]].description
    return f" (expected: {description})" if description else ""


def model_help(model: type[BaseModel]) -> str:
    """A field-per-line summary (name, default, description) for CLI help texts."""
    lines = []
    for name, info in recipe_fields(model).items():
        default = "required" if info.is_required() else (
            "defaults" if info.default_factory is not None else f"default {info.default!r}")
        lines.append(f"{name} ({default}): {info.description or ''}".rstrip(": "))
    return "\n".join(lines)
