"""Scorer presets: model shape and training knobs in one validated config.

A preset is a :class:`ScorerConfig`; ``--set key=value`` overrides any field and a bad key or
value is a one-line error naming the allowed keys. The vocabulary size is never part of a
preset: it always comes from the tokenizer, so the embedding matrix matches it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from codekiln_core.config import RecipeModel, apply_override, read_yaml_mapping, validate
from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from transformers import LlamaConfig


class ScorerConfig(RecipeModel):
    """Shape of the Llama regression model plus how to train it."""

    name: str = Field(default="custom", description="preset name, kept in the checkpoint")
    # --- model shape (Llama 2 style: RMSNorm, SwiGLU, RoPE; no lm_head, a 1-output head) ---
    hidden_size: int = Field(default=64, ge=8, description="width of the residual stream")
    num_layers: int = Field(default=2, ge=1, description="decoder layers")
    num_heads: int = Field(default=4, ge=1, description="query heads; divides hidden_size")
    num_kv_heads: int = Field(default=4, ge=1, description="key/value heads (= heads: MHA)")
    intermediate_size: int = Field(default=128, ge=8, description="SwiGLU feed-forward width")
    max_tokens: int = Field(default=256, ge=8, description="tokens kept per file (its head)")
    rope_theta: float = Field(default=10_000.0, gt=0, description="RoPE base (Llama 2: 1e4)")
    # --- training ---
    epochs: int = Field(default=1, ge=1, description="passes over the train split (paper: 1)")
    batch_size: int = Field(default=8, ge=1, description="files per optimizer step")
    learning_rate: float = Field(default=1e-3, gt=0, description="AdamW peak learning rate")
    weight_decay: float = Field(default=0.01, ge=0, description="AdamW decoupled decay")
    warmup_fraction: float = Field(default=0.05, ge=0, le=1,
                                   description="share of steps with linear warmup")
    grad_clip: float = Field(default=1.0, gt=0, description="max global gradient norm")
    seed: int = Field(default=0, description="seed for weights, shuffling and dropout")
    eval_percent: int = Field(default=10, ge=1, le=50,
                              description="held-out share in percent, chosen by id hash")
    eval_points: int = Field(default=5, ge=0,
                             description="validation losses on the held-out split over the "
                                         "run, evenly spaced, the last at the end (0: none)")
    tokenizer_vocab: int = Field(default=4096, ge=300,
                                 description="vocab of the BPE trained when no --tokenizer")


PRESETS: dict[str, ScorerConfig] = {
    # Trains in seconds on one CPU core; used by the tests and the benchmark.
    "tiny": ScorerConfig(name="tiny"),
    # The paper's student: a 1.3B Llama 2 (24 x 2048, 16 heads, SwiGLU 5504). Meant to start
    # from pretrained weights (--init) and to run on a GPU; 2048 tokens per file.
    "1.3b": ScorerConfig(
        name="1.3b", hidden_size=2048, num_layers=24, num_heads=16, num_kv_heads=16,
        intermediate_size=5504, max_tokens=2048, learning_rate=1e-5, batch_size=32,
        warmup_fraction=0.01, tokenizer_vocab=32_000,
    ),
}  # fmt: skip


def load_preset(name: str, overrides: Sequence[str] = ()) -> ScorerConfig:
    """The named preset with ``key=value`` overrides applied and validated."""
    if name not in PRESETS:
        raise ConfigError(f"--preset {name!r}: unknown preset; choose one of "
                          f"{', '.join(sorted(PRESETS))}")
    data: dict[str, Any] = PRESETS[name].model_dump()
    for override in overrides:
        apply_override(data, override)
    config = validate(data, ScorerConfig, source=f"preset {name!r}")
    check_shape(config, name)
    return config


def check_shape(config: ScorerConfig, name: str) -> None:
    """Heads must divide the width, and key/value heads the heads."""
    if config.hidden_size % config.num_heads or config.num_heads % config.num_kv_heads:
        raise ConfigError(
            f"preset {name!r}: hidden_size={config.hidden_size}, num_heads={config.num_heads}, "
            f"num_kv_heads={config.num_kv_heads}: hidden_size must divide by num_heads and "
            "num_heads by num_kv_heads")


def llama_config(config: ScorerConfig, vocab_size: int, pad_token_id: int) -> LlamaConfig:
    """The transformers config of a 1-output regression Llama for ``config``."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_kv_heads,
        max_position_embeddings=config.max_tokens,
        rope_parameters={"rope_type": "default", "rope_theta": config.rope_theta},
        pad_token_id=pad_token_id,
        num_labels=1,  # type: ignore[call-arg]  # PretrainedConfig kwargs
        problem_type="regression",
        tie_word_embeddings=False,
    )


def parameter_count(config: ScorerConfig, vocab_size: int) -> int:
    """Exact parameter count of the regression model, without allocating it."""
    h, f, layers = config.hidden_size, config.intermediate_size, config.num_layers
    head_dim = h // config.num_heads
    kv = config.num_kv_heads * head_dim
    attention = h * h * 2 + h * kv * 2  # q and o are h x h; k and v are h x kv
    per_layer = attention + 3 * h * f + 2 * h  # SwiGLU gate/up/down + two RMSNorm weights
    return vocab_size * h + layers * per_layer + h + h  # embeddings, final norm, score head


class ScorerRecipe(ScorerConfig):
    """A preset's model and training settings (any key overridable), plus the run's own."""

    labels: Path = Field(description="labels directory (labels.parquet) or a Parquet/JSONL "
                         "file: content, score 0-10")
    output: Path = Field(description="checkpoint directory")
    preset: str = Field("tiny", description="tiny (CPU, seconds) or 1.3b (paper size); its "
                        "values are the defaults of every model and training key")
    tokenizer: Path | None = Field(None, description="Hugging Face tokenizer directory; "
                                   "omitted: a byte-level BPE trained on the labels")
    init: Path | None = Field(None, description="start from this pretrained Llama checkpoint "
                              "instead of random weights")
    register_as: str | None = Field(None, description="also register the model in the MLflow "
                                 "registry under this name")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where to train")
    threads: int | None = Field(None, ge=1, description="CPU threads for torch (1 is fastest "
                                "for tiny on a busy machine)")


def load_scorer_recipe(path: Path | None, overrides: Sequence[str]) -> ScorerRecipe:
    """The recipe's keys over its preset's values (``preset`` picks the preset)."""
    data: dict[str, Any] = read_yaml_mapping(path) if path is not None else {}
    for override in overrides:
        apply_override(data, override)
    name = str(data.get("preset", "tiny"))
    if name not in PRESETS:
        raise ConfigError(f"preset {name!r}: unknown preset; choose one of "
                          f"{', '.join(sorted(PRESETS))}")
    merged = {**PRESETS[name].model_dump(), **data}
    recipe = validate(merged, ScorerRecipe, source=str(path or "codekiln train scorer"))
    check_shape(recipe, name)
    return recipe
