"""The Seed-Coder student scorer: a Llama with a regression head trained on teacher labels,
built by ``codekiln_train.models`` and trained by the engine and loop pretraining uses.

Only light modules are imported here; torch and transformers load inside functions.
"""

from __future__ import annotations

from codekiln_train.scorer.presets import (
    PRESETS,
    ScorerConfig,
    ScorerRecipe,
    load_scorer_recipe,
)

__all__ = ["PRESETS", "ScorerConfig", "ScorerRecipe", "load_scorer_recipe"]
