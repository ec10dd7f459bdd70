"""Llama-architecture models from typed presets (``tiny``, ``small``, ``1b``,
``seed-coder-8b``), with a language-model head or a regression head (the quality scorer).

``presets`` is pure Python (cheap to import for recipe validation); ``build`` imports torch
and transformers inside its functions.
"""

from codekiln_train.models.build import (
    Head,
    build_model,
    flops_per_token,
    llama_config,
    parameter_count,
    regression_from_pretrained,
    set_rope_theta,
)
from codekiln_train.models.presets import PRESETS, ModelConfig, check_shape, resolve_model_config

__all__ = ["PRESETS", "Head", "ModelConfig", "build_model", "check_shape", "flops_per_token",
           "llama_config", "parameter_count", "regression_from_pretrained",
           "resolve_model_config", "set_rope_theta"]
