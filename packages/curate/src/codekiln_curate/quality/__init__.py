"""Model-based quality scoring: a regression checkpoint scores files 0-10, a gate drops the
lowest (Seed-Coder: bottom ~10%). Torch and transformers load only when a model is used.
The ``quality-score`` stage is :mod:`codekiln_curate.stages.quality_score`.
"""

from __future__ import annotations

from codekiln_curate.quality.gate import (
    GateDecision,
    absolute_gate,
    percentile_gate,
    threshold_for,
)

__all__ = ["GateDecision", "absolute_gate", "percentile_gate", "threshold_for"]
