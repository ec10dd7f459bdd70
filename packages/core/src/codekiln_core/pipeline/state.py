"""Step state on disk: a marker per step under WORKDIR/.pipeline, written atomically.

``started`` is written before the command runs, ``finished`` after it exits 0 with the
run id, the digest of everything that went in, and the output's digest. A rerun skips a
finished step whose inputs digest and output are unchanged.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_write_json

STATE_DIR = ".pipeline"


@dataclass
class StepState:
    name: str
    status: str  # started | finished
    inputs_digest: str
    argv: list[str] = field(default_factory=list)
    output: str | None = None
    output_digest: str | None = None
    run_id: str | None = None
    parent_run_id: str | None = None
    seconds: float = 0.0
    updated_at: float = field(default_factory=time.time)


class PipelineState:
    """The state directory of one pipeline's workdir."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir / STATE_DIR
        self.steps_dir = self.root / "steps"
        self.logs_dir = self.root / "logs"
        self.stale_dir = self.root / "stale"

    def load(self, name: str) -> StepState | None:
        path = self.steps_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return StepState(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, state: StepState) -> None:
        state.updated_at = time.time()
        atomic_write_json(self.steps_dir / f"{state.name}.json", asdict(state))

    def pipeline(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / "pipeline.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_pipeline(self, payload: dict[str, Any]) -> None:
        atomic_write_json(self.root / "pipeline.json", payload)

    def recipe_path(self, name: str) -> Path:
        """Where a step's inline config is written as a recipe file for its command."""
        return self.root / "recipes" / f"{name}.yaml"
