"""Recipe inputs through their registered readers: planning (driver) and reading (worker).

An input of ``kind: X`` is read by the stage registered as ``read-X`` (a
:class:`codekiln_core.stages.Reader`), first-party or from a plugin.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from codekiln_core.errors import CodekilnError, ConfigError, UnknownNameError
from codekiln_core.registry import Registry
from codekiln_core.stages import Reader
from codekiln_curate.readers.shard import Item, Shard
from codekiln_curate.recipe import InputSpec, resolve_input_path

READER_PREFIX = "read-"


def reader_for(registry: Registry, kind: str, where: str = "") -> Reader:
    """The reader of input ``kind``; a one-line error naming the kinds registered."""
    name = READER_PREFIX + kind
    try:
        cls = registry.get("stage", name).obj
    except UnknownNameError as exc:
        raise ConfigError(f"{where}no reader for kind {kind!r} (none registered as "
                          f"{name!r}); kinds: {', '.join(reader_kinds(registry))}") from exc
    except CodekilnError as exc:  # contested by two plugins
        raise ConfigError(f"{where}{exc}") from exc
    if not isinstance(cls, Reader):
        raise ConfigError(f"{where}{name!r} is registered but is no reader (plan + read); "
                          f"kinds: {', '.join(reader_kinds(registry))}")
    reader: Reader = cls()
    return reader


def reader_kinds(registry: Registry) -> list[str]:
    """Input kinds some registered reader handles."""
    return sorted(name.removeprefix(READER_PREFIX) for name, reg in registry.all("stage").items()
                  if name.startswith(READER_PREFIX) and isinstance(reg.obj, Reader))


def plan_input(index: int, spec: InputSpec, shard_files: int, registry: Registry,
               recipe_file: str = "recipe") -> list[Shard]:
    """Shards of ``inputs[index]``; errors name ``recipe_file`` and the key."""
    reader = reader_for(registry, spec.kind, f"{recipe_file}: inputs[{index}].kind: ")
    path = existing_input_path(index, spec, recipe_file)
    try:
        return list(reader.plan(index, spec, path, shard_files))
    except ConfigError as exc:
        raise ConfigError(f"{recipe_file}: {exc}") from exc


def existing_input_path(index: int, spec: InputSpec, recipe_file: str = "recipe") -> Path:
    """The resolved path of ``inputs[index]``; a one-line error when it does not exist."""
    path = resolve_input_path(spec.path)
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"{recipe_file}: inputs[{index}].path {spec.path!r}: {path} does not "
                          "exist; fix the path or remove the input")
    return path


def read_shard(shard: Shard, max_file_bytes: int, registry: Registry) -> Iterable[Item]:
    """Documents and counted skips of one shard, in a fixed order."""
    items: Iterable[Item] = reader_for(registry, shard.kind).read(shard, max_file_bytes)
    return items
