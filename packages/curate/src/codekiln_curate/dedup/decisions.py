"""What a dedup stage decides per document, and the string form of the keep rule's key.

Both dedup stages (``exact-dedup``, ``near-dedup``) answer with :data:`Decisions`; the
engine writes them per shard and the next pass applies them.
"""

from __future__ import annotations

from typing import Any, Literal

from codekiln_core.errors import ConfigError

#: document id -> (cluster id, drop reason or None when the document is kept)
Decisions = dict[str, tuple[str | None, str | None]]
KEY_SEP = "\0"


def check_level(level: str) -> Literal["file", "repo"]:
    if level not in ("file", "repo"):
        raise ConfigError(f"dedup level {level!r} is not supported; use 'file' or 'repo'")
    return level  # type: ignore[return-value]


def keep_key(doc: dict[str, Any]) -> str:
    """String whose order is the keep rule's ``(repo, path, id)`` order."""
    return KEY_SEP.join((doc.get("repo") or "", doc.get("path") or "", doc["id"]))
