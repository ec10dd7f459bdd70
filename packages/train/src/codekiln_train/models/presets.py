"""Model presets: the shape of a Llama decoder, typed, with every field overridable.

A preset is a frozen :class:`ModelConfig`; ``--set model.<field>=VALUE`` replaces any field
and an impossible shape is one :class:`~codekiln_core.errors.ConfigError` line. The
vocabulary and the special ids are never part of a preset: they come from the shards'
manifest when the model is built, so the embedding always matches the tokenizer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from codekiln_core.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a Llama-architecture decoder (names follow ``transformers.LlamaConfig``)."""

    hidden_size: int  # width of the residual stream
    intermediate_size: int  # SwiGLU feed-forward width
    num_hidden_layers: int  # decoder layers
    num_attention_heads: int  # query heads; hidden_size / heads = head_dim (even, for RoPE)
    num_key_value_heads: int  # key/value heads (GQA); divides num_attention_heads
    max_position_embeddings: int  # longest sequence the model is configured for
    rope_theta: float = 500_000.0  # RoPE base (Llama 3 / Seed-Coder: 5e5)
    rms_norm_eps: float = 1e-6  # RMSNorm epsilon
    initializer_range: float = 0.02  # std of the normal weight init
    tie_word_embeddings: bool = False  # share input embedding and lm head (Seed-Coder: no)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


PRESETS: dict[str, ModelConfig] = {
    # A few M parameters (0.74M non-embedding + 2 x 128 x vocab): CPU tests and demos, where a
    # step of 8 x 128 tokens takes tens of milliseconds on one core.
    "tiny": ModelConfig(
        hidden_size=128, intermediate_size=352, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=2048),
    # 24M non-embedding parameters (+ 2 x 512 x vocab: 58M at a 32K vocab): the CPU
    # throughput benchmark, large enough that matmuls dominate.
    "small": ModelConfig(
        hidden_size=512, intermediate_size=1536, num_hidden_layers=8, num_attention_heads=8,
        num_key_value_heads=2, max_position_embeddings=8192),
    # Llama-3.2-1B's trunk (0.97B non-embedding), untied like Seed-Coder: one GPU (bf16 weights,
    # fp32 AdamW state: ~16 bytes/param, ~26 GB at a 155K vocab) at sequence 4096-8192.
    "1b": ModelConfig(
        hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
        num_key_value_heads=8, max_position_embeddings=8192),
    # Seed-Coder-8B-Base (its report): 4096/14336 SwiGLU, 32 query / 8 KV heads (head_dim 128),
    # RoPE θ 5e5 without scaling, untied, max positions 32768, eps 1e-6, init std 0.009882.
    # 32 layers, not the report's 36: the released config.json says 32, and only 32 gives the
    # stated 8.2B at vocab 155,136 (32 layers -> 8.25B, 36 layers -> 9.12B), so the report's
    # "36" looks like a typo. test_train_models checks 8.25B on the meta device.
    "seed-coder-8b": ModelConfig(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768,
        rope_theta=500_000.0, rms_norm_eps=1e-6, initializer_range=0.009882,
        tie_word_embeddings=False),
}  # fmt: skip

_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool}
#: Field name -> its Python type (annotations are strings under ``from __future__``).
FIELD_TYPES: dict[str, type] = {f.name: _TYPES[str(f.type)] for f in fields(ModelConfig)}


def resolve_model_config(preset: str, overrides: Mapping[str, Any] | None = None,
                         *, source: str = "model") -> ModelConfig:
    """The named preset with ``overrides`` applied, type-checked and shape-checked."""
    if preset not in PRESETS:
        raise ConfigError(f"{source}.preset {preset!r}: unknown preset; choose one of "
                          f"{', '.join(PRESETS)}")
    changes = {key: _coerce(key, value, source) for key, value in (overrides or {}).items()}
    config = replace(PRESETS[preset], **changes)
    check_shape(config, source=f"{source} (preset {preset!r})")
    return config


def _coerce(key: str, value: Any, source: str) -> Any:
    if key not in FIELD_TYPES:
        raise ConfigError(f"{source}.{key}: unknown model field; allowed: "
                          f"{', '.join(FIELD_TYPES)}")
    kind = FIELD_TYPES[key]
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"{source}.{key} = {value!r}: expected {kind.__name__}")


def check_shape(config: ModelConfig, *, source: str = "model") -> None:
    """Refuse a shape LlamaForCausalLM cannot run, in one line naming the fields."""
    values = asdict(config)
    for name in ("hidden_size", "intermediate_size", "num_hidden_layers",
                 "num_attention_heads", "num_key_value_heads", "max_position_embeddings"):
        if values[name] < 1:
            raise ConfigError(f"{source}: {name}={values[name]} must be >= 1")
    for name in ("rope_theta", "rms_norm_eps", "initializer_range"):
        if not values[name] > 0:
            raise ConfigError(f"{source}: {name}={values[name]} must be > 0")
    h, q, kv = config.hidden_size, config.num_attention_heads, config.num_key_value_heads
    if h % q:
        raise ConfigError(f"{source}: hidden_size={h} is not divisible by "
                          f"num_attention_heads={q}; pick heads that divide it")
    if q % kv:
        raise ConfigError(f"{source}: num_attention_heads={q} is not divisible by "
                          f"num_key_value_heads={kv} (GQA groups whole heads)")
    if config.head_dim % 2:
        raise ConfigError(f"{source}: head_dim = hidden_size/num_attention_heads = "
                          f"{config.head_dim} is odd; RoPE rotates pairs, so it must be even")
