"""A command's lineage inputs, named: checked to exist when the command starts (a one-line
error naming the recipe key), digested only when lineage records them (core consumes the
returned iterator inside the run; with ``--no-lineage`` nothing is read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef


def named_inputs(*inputs: tuple[str, Path, str | None]) -> Iterator[InputRef]:
    """``(recipe key, path, lineage name)`` for each input, in order (name None: the
    path's last component)."""
    for key, path, _name in inputs:
        if not path.exists():
            raise ConfigError(f"{key} {path}: no such file or directory; pass an existing path")
    return _refs(inputs)


def _refs(inputs: tuple[tuple[str, Path, str | None], ...]) -> Iterator[InputRef]:
    from codekiln_core.lineage import InputRef

    for _key, path, name in inputs:
        yield InputRef.from_path(path, name=name)
