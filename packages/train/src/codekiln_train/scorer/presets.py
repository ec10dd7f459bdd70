"""The scorer's recipe: a preset's model shape and training settings, any key overridable.

A preset is a :class:`ScorerConfig`. Its shape keys are ``codekiln_train.models``'
``ModelConfig`` fields (the same names as a pretraining recipe's ``model`` section), so the
scorer is built by the same builder with a regression head, and an impossible shape is the
same one-line error. The vocabulary size is never part of a preset: it always comes from the
tokenizer, so the embedding matrix matches it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from codekiln_core.config import RecipeModel, apply_override, read_yaml_mapping, validate
from codekiln_core.errors import ConfigError
from codekiln_train.models.presets import ModelConfig, check_shape


class ScorerConfig(RecipeModel):
    """Shape of the Llama regression model plus how to train it."""

    # --- model shape (Llama 2 style: RMSNorm, SwiGLU, RoPE; no lm_head, a 1-output head) ---
    hidden_size: int = Field(default=64, ge=8, description="width of the residual stream")
    intermediate_size: int = Field(default=128, ge=8, description="SwiGLU feed-forward width")
    num_hidden_layers: int = Field(default=2, ge=1, description="decoder layers")
    num_attention_heads: int = Field(default=4, ge=1,
                                     description="query heads; divides hidden_size")
    num_key_value_heads: int = Field(default=4, ge=1,
                                     description="key/value heads (= heads: MHA); divides "
                                                 "num_attention_heads")
    max_tokens: int = Field(default=256, ge=8, description="tokens kept per file (its head); "
                                                           "also the model's positions")
    rope_theta: float = Field(default=10_000.0, gt=0, description="RoPE base (Llama 2: 1e4)")
    # --- training ---
    epochs: int = Field(default=1, ge=1, description="passes over the train split (paper: 1)")
    batch_size: int = Field(default=8, ge=1, description="files per optimizer step")
    learning_rate: float = Field(default=1e-3, gt=0, description="AdamW peak learning rate")
    weight_decay: float = Field(default=0.01, ge=0,
                                description="AdamW decoupled decay (not on norms)")
    warmup_fraction: float = Field(default=0.05, ge=0, le=1,
                                   description="share of steps with linear warmup; then a "
                                               "cosine decay to 10% of the peak")
    grad_clip: float = Field(default=1.0, gt=0, description="max global gradient norm")
    seed: int = Field(default=0, description="seed for weights, data order and dropout")
    eval_percent: int = Field(default=10, ge=1, le=50,
                              description="held-out share in percent, chosen by id hash")
    eval_points: int = Field(default=5, ge=0,
                             description="at most this many validation losses on the held-out "
                                         "split, evenly spaced, the last at the end (0: none)")
    tokenizer_vocab: int = Field(default=4096, ge=300,
                                 description="vocab of the BPE trained when no --tokenizer")

    def decoder_config(self, *, source: str = "scorer") -> ModelConfig:
        """The decoder's shape as ``codekiln_train.models`` builds it (shape-checked)."""
        config = ModelConfig(
            hidden_size=self.hidden_size, intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            max_position_embeddings=self.max_tokens, rope_theta=self.rope_theta)
        check_shape(config, source=source)
        return config


PRESETS: dict[str, ScorerConfig] = {
    # Trains in seconds on one CPU core; used by the tests and the benchmark.
    "tiny": ScorerConfig(),
    # The paper's student: a 1.3B Llama 2 (24 x 2048, 16 heads, SwiGLU 5504). Meant to start
    # from pretrained weights (--init) and to run on a GPU; 2048 tokens per file.
    "1.3b": ScorerConfig(
        hidden_size=2048, num_hidden_layers=24, num_attention_heads=16,
        num_key_value_heads=16, intermediate_size=5504, max_tokens=2048, learning_rate=1e-5,
        batch_size=32, warmup_fraction=0.01, tokenizer_vocab=32_000),
}  # fmt: skip


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
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto: bf16 on GPU, fp32 on CPU")
    threads: int | None = Field(None, ge=1, description="CPU threads for torch (1 is fastest "
                                "for tiny on a busy machine)")
    peak_flops: float | None = Field(None, gt=0, description="peak FLOP/s of the device for "
                                     "MFU (default: table by GPU name; measured matmul rate "
                                     "on CPU)")

    def training_settings(self) -> dict[str, Any]:
        """The preset-level keys (shape and training), as the checkpoint records them."""
        return self.model_dump(mode="json", include=set(ScorerConfig.model_fields))


def load_scorer_recipe(path: Path | None, overrides: Sequence[str] = ()) -> ScorerRecipe:
    """The recipe's keys over its preset's values (``preset`` picks the preset)."""
    data: dict[str, Any] = read_yaml_mapping(path) if path is not None else {}
    for override in overrides:
        apply_override(data, override)
    name = str(data.get("preset", "tiny"))
    if name not in PRESETS:
        raise ConfigError(f"preset {name!r}: unknown preset; choose one of "
                          f"{', '.join(sorted(PRESETS))}")
    source = str(path or "codekiln train scorer")
    recipe = validate({**PRESETS[name].model_dump(), **data}, ScorerRecipe, source=source)
    recipe.decoder_config(source=f"{source} (preset {name!r})")
    return recipe
