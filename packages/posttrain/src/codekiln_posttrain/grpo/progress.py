"""What the local GRPO loop keeps on disk so that ``kill -9`` then ``--resume`` continues
exactly: the curriculum's verdict, checkpoints and the per-step metrics.

- ``curriculum.json``: which prompts the pre-pass kept (their indices in the data; a
  resumed run reads it instead of sampling again);
- ``checkpoints/step-N``: codekiln_train's engine checkpoint (weights, optimizer,
  schedule) with the step, every step's metrics so far and the RNG states;
- ``metrics.jsonl``: one line per step; a resumed run drops the lines after its checkpoint.

Rollouts are seeded per step and micro-batch, so a resumed step samples what the
uninterrupted run sampled.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_json

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun
    from codekiln_train.metrics import MetricsLog

CURRICULUM = "curriculum.json"


def stored_curriculum(output: Path) -> list[int] | None:
    """The kept prompts (indices) of an earlier attempt of this run, if it got that far."""
    path = output / CURRICULUM
    return list(json.loads(path.read_text(encoding="utf-8"))["kept"]) if path.is_file() \
        else None


def store_curriculum(output: Path, kept: list[int]) -> None:
    atomic_write_json(output / CURRICULUM, {"kept": kept})


@dataclass
class Progress:
    """The loop's position: steps done and each one's metrics, with where they go."""

    output: Path
    run: LineageRun
    log: MetricsLog
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def open(cls, output: Path, run: LineageRun, *, rank_zero: bool) -> Progress:
        from codekiln_train.metrics import MetricsLog

        return cls(output, run, MetricsLog(output / "metrics.jsonl" if rank_zero else None))

    @property
    def checkpoints(self) -> Path:
        return self.output / "checkpoints"

    def record(self, metrics: dict[str, float]) -> None:
        """One step done: its metrics to the history, metrics.jsonl and the run."""
        self.step += 1
        self.history.append(metrics)
        self.log.append({"step": self.step, **metrics})
        self.run.log_metrics(metrics, step=self.step)

    def save(self, engine: Any, keep_last: int) -> None:
        """A checkpoint of this step (every rank calls; rank 0 prunes old ones)."""
        from codekiln_train import checkpoint as ckpt

        engine.save(ckpt.step_dir(self.checkpoints, self.step),
                    {"step": self.step, "history": self.history, "rng": ckpt.capture_rng()})
        if engine.rank == 0:
            ckpt.prune_checkpoints(self.checkpoints, keep_last)

    def resume(self, engine: Any) -> bool:
        """Load the newest complete checkpoint, if any; False when there is none."""
        from codekiln_core.fsio import remove_stale_temps
        from codekiln_train import checkpoint as ckpt

        remove_stale_temps(self.checkpoints)
        latest = ckpt.latest_checkpoint(self.checkpoints)
        if latest is None:
            return False
        state = engine.load(latest)
        self.step, self.history = int(state["step"]), list(state["history"])
        ckpt.restore_rng(state["rng"])
        self.log.truncate_after(self.step)
        if engine.rank == 0:
            print(f"resuming from step {self.step} ({latest})", file=sys.stderr)
        return True
