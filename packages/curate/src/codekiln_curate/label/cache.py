"""A request cache: sha256(teacher model, prompt, params) -> raw answer, in SQLite.

Only the main thread touches the database, so a plain connection is enough; each answer is
committed as soon as it arrives, so a killed run loses at most the requests in flight.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def request_key(model: str, prompt: str, params: Mapping[str, Any]) -> str:
    payload = json.dumps({"model": model, "prompt": prompt, "params": dict(params)},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class RequestCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE IF NOT EXISTS answers "
                         "(key TEXT PRIMARY KEY, model TEXT, answer TEXT)")
        self._db.commit()

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, model: str, answer: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (key, model, answer))
        self._db.commit()

    def close(self) -> None:
        self._db.close()
