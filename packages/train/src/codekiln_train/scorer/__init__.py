"""The Seed-Coder student scorer: a Llama with a regression head trained on teacher labels.

Only light modules are imported here; torch and transformers load inside functions.
"""

from __future__ import annotations

from codekiln_train.scorer.presets import PRESETS, ScorerConfig, load_preset

__all__ = ["PRESETS", "ScorerConfig", "load_preset"]
