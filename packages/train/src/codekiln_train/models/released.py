"""Released weights to continue (``model.from``): the shape from the checkpoint's
``config.json``, the weights loaded for the engine, the tokenizer checked against the shards'.

Continued pretraining starts from a model someone else trained (Seed-Coder-8B-Base,
SmolLM2, a Llama): its ``config.json`` fixes the shape, so only the context length and the
RoPE base may be set in the recipe. Under ZeRO-3 the weights load straight into each rank's
partition (DeepSpeed's ``zero.Init`` through transformers), so no rank ever holds the whole
model. When the shards' tokenizer is the model's with FIM sentinels added (``codekiln curate
tokenizer adopt``), the embedding (and an untied head) grows by those rows, each new row
initialised to the mean of the existing rows: a neutral start the sentinels learn from.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_train.models.presets import ModelConfig

if TYPE_CHECKING:
    import torch

    from codekiln_train.recipe import ModelSection

#: model_type -> what is known to work (tested: a tiny model of each type loads, trains and
#: round-trips through a 0-step export). All are decoders with RoPE, RMSNorm and SwiGLU that
#: the packed-document masks and the per-stage RoPE base apply to unchanged.
SUPPORTED_MODEL_TYPES: dict[str, str] = {
    "llama": "Llama 2/3, Seed-Coder, SmolLM2, CodeLlama, DeepSeek-Coder 1.x, Yi-Coder",
    "mistral": "Mistral, Codestral-style decoders",
    "qwen2": "Qwen2 / Qwen2.5-Coder",
}


def rope_of(config: dict[str, Any]) -> tuple[float, str]:
    """(RoPE base, rope type) from either config layout: ``rope_parameters`` (transformers
    5) or ``rope_theta`` + ``rope_scaling`` (transformers 4 and most released files)."""
    params = config.get("rope_parameters") or {}
    scaling = config.get("rope_scaling") or {}
    theta = params.get("rope_theta", config.get("rope_theta", 10_000.0))
    kind = params.get("rope_type") or scaling.get("rope_type") or scaling.get("type")
    return float(theta), str(kind or "default")


def released_shape(config: dict[str, Any], *, source: str) -> ModelConfig:
    """The checkpoint's shape as a :class:`ModelConfig` (for plans, FLOPs and θ)."""
    model_type = config.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ConfigError(f"{source}: model_type {model_type!r} is not supported for continued "
                          f"pretraining; supported: {', '.join(SUPPORTED_MODEL_TYPES)} "
                          "(docs/continue.md)")
    try:
        heads = int(config["num_attention_heads"])
        return ModelConfig(
            hidden_size=int(config["hidden_size"]),
            intermediate_size=int(config["intermediate_size"]),
            num_hidden_layers=int(config["num_hidden_layers"]), num_attention_heads=heads,
            num_key_value_heads=int(config.get("num_key_value_heads") or heads),
            max_position_embeddings=int(config["max_position_embeddings"]),
            rope_theta=rope_of(config)[0],
            rms_norm_eps=float(config.get("rms_norm_eps", 1e-6)),
            initializer_range=float(config.get("initializer_range", 0.02)),
            tie_word_embeddings=bool(config.get("tie_word_embeddings", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: its config.json lacks or garbles {exc}; is it a "
                          "causal language model's config?") from exc


def with_overrides(shape: ModelConfig, overrides: dict[str, Any]) -> ModelConfig:
    """``max_position_embeddings`` / ``rope_theta`` from the recipe (the rest is refused by
    the recipe model)."""
    changes = {key: (float(value) if key == "rope_theta" else int(value))
               for key, value in overrides.items()}
    return replace(shape, **changes)


def section_shape(section: ModelSection, *, source: str = "model") -> ModelConfig:
    """The model a recipe's ``model:`` section describes: a preset with its overrides, or
    a released checkpoint's config.json (read, or fetched alone for a hub id)."""
    from codekiln_core.start_model import parse_start_model, start_model_config
    from codekiln_train.models.presets import resolve_model_config

    if section.from_ is None:
        assert section.preset is not None  # the recipe model requires one of the two
        return resolve_model_config(section.preset, section.overrides, source=source)
    start = parse_start_model(section.from_, key=f"{source}.from")
    shape = released_shape(start_model_config(start), source=f"{source}.from {section.from_!r}")
    return with_overrides(shape, section.overrides)


def load_released(model_dir: Path, *, rows: int, dtype: torch.dtype, attn_implementation: str,
                  zero3_config: dict[str, Any] | None = None) -> tuple[Any, int]:
    """The checkpoint as a causal LM in ``dtype`` with at least ``rows`` embedding rows
    (:func:`grow_vocabulary`); returns it and the rows added. With ``zero3_config`` (a
    ZeRO-3 engine's DeepSpeed config) each rank loads only its partition."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    def load() -> tuple[Any, int]:
        model = AutoModelForCausalLM.from_pretrained(
            str(model_dir), dtype=dtype, attn_implementation=attn_implementation)
        return model, grow_vocabulary(model, rows)

    if zero3_config is None:
        model, added = load()
    else:  # transformers partitions (and resizes) under ZeRO-3 while this config is set
        from transformers.integrations.deepspeed import (
            HfDeepSpeedConfig,
            unset_hf_deepspeed_config,
        )

        active = HfDeepSpeedConfig(zero3_config)  # held weakly by transformers: keep it
        try:
            model, added = load()
        finally:
            unset_hf_deepspeed_config()
            del active
    model.config.use_cache = False
    return model, added


def grow_vocabulary(model: Any, rows: int) -> int:
    """Grow the embedding (and an untied head) to ``rows``; new rows are the mean of the old
    ones. Returns how many rows were added (0 when it is big enough already)."""
    import torch

    embedding = model.get_input_embeddings()
    old = _rows(embedding.weight)
    if rows <= old:
        return 0
    model.resize_token_embeddings(rows, mean_resizing=False)
    targets = [model.get_input_embeddings().weight]
    head = model.get_output_embeddings()
    if head is not None and head.weight is not targets[0]:
        targets.append(head.weight)
    with _gathered(targets), torch.no_grad():
        for weight in targets:
            weight[old:] = weight[:old].mean(dim=0, keepdim=True)
    model.config.vocab_size = rows
    return rows - old


def _rows(weight: Any) -> int:
    shape = getattr(weight, "ds_shape", None) or weight.shape  # a ZeRO-3 partition
    return int(shape[0])


def _gathered(params: list[Any]) -> Any:
    """ZeRO-3 partitions gathered (rank 0's edit kept); plain tensors need nothing."""
    import contextlib

    if any(hasattr(p, "ds_id") for p in params):
        import deepspeed

        return deepspeed.zero.GatheredParameters(params, modifier_rank=0)
    return contextlib.nullcontext()


def check_tokenizer_extends(model_dir: Path, tokenizer_dir: Path, *, rows: int,
                            source: str) -> int:
    """The shards' tokenizer must be the model's own, possibly with tokens appended after
    the model's rows (added FIM sentinels). Returns the ids it needs (its full size).

    Compared token by token through ``tokenizer.json``; a model directory without one is
    compared by size only.
    """
    from tokenizers import Tokenizer

    from codekiln_core.shards import vocab_rows

    ours = Tokenizer.from_file(str(Path(tokenizer_dir) / "tokenizer.json"))
    needed = vocab_rows(ours)
    theirs_file = Path(model_dir) / "tokenizer.json"
    if not theirs_file.is_file():
        return needed
    shard_vocab = ours.get_vocab(with_added_tokens=True)
    model_vocab = Tokenizer.from_file(str(theirs_file)).get_vocab(with_added_tokens=True)
    for token, token_id in model_vocab.items():
        if shard_vocab.get(token) != token_id:
            raise ConfigError(
                f"{source}: the shards' tokenizer {tokenizer_dir} is not the model's: token "
                f"{token!r} is id {shard_vocab.get(token)} there and {token_id} in "
                f"{theirs_file}; build the shards with the model's tokenizer (`codekiln "
                "curate tokenizer adopt MODEL`)")
    squeezed = sorted(token for token, token_id in shard_vocab.items()
                      if token_id < rows and token not in model_vocab)
    if squeezed:
        raise ConfigError(f"{source}: the shards' tokenizer {tokenizer_dir} puts tokens "
                          f"{squeezed[:3]} on rows the model already has (ids < {rows}); add "
                          "new tokens after the model's vocabulary")
    return needed
