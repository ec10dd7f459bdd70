"""Build a Llama from a preset, count its parameters, estimate its FLOPs.

Two heads on the same decoder: ``lm`` (``LlamaForCausalLM``, pretraining and post-training)
and ``regression`` (``LlamaForSequenceClassification`` with one output, the quality
scorer). Either is a plain Hugging Face model from the first step, so checkpoints export
without conversion. torch and transformers are imported inside the functions (both are slow
to import), which keeps recipe validation and ``--help`` fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from codekiln_train.models.presets import ModelConfig, check_shape

if TYPE_CHECKING:
    import torch
    from transformers import LlamaConfig

#: ``lm``: next-token logits over the vocabulary; ``regression``: one number per sequence
#: (the last non-pad token's hidden state through a 1-output linear layer; MSE loss).
Head = Literal["lm", "regression"]


def llama_config(cfg: ModelConfig, *, vocab_size: int, bos_token_id: int | None,
                 eos_token_id: int | None, pad_token_id: int | None,
                 attn_implementation: str = "sdpa", head: Head = "lm") -> LlamaConfig:
    """The transformers config for ``cfg``; vocabulary and special ids from the tokenizer."""
    from transformers import LlamaConfig

    check_shape(cfg)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        max_position_embeddings=cfg.max_position_embeddings,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_theta},
        rms_norm_eps=cfg.rms_norm_eps,
        initializer_range=cfg.initializer_range,
        tie_word_embeddings=cfg.tie_word_embeddings,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        use_cache=False,  # training; generation turns it back on per call
    )
    if head == "regression":
        config.num_labels = 1
        config.problem_type = "regression"
    config._attn_implementation = attn_implementation
    return config


def build_model(cfg: ModelConfig, *, vocab_size: int, bos_token_id: int | None,
                eos_token_id: int | None, pad_token_id: int | None, device: str = "cpu",
                dtype: torch.dtype | None = None, seed: int = 0,
                attn_implementation: str = "sdpa", head: Head = "lm") -> Any:
    """A freshly initialised model; ``device="meta"`` allocates nothing (for counting).

    The weights depend only on ``seed`` (the global torch RNG is left as it was), so two
    ranks or two runs build the same model. Typed ``Any``: transformers' model classes are
    only partly annotated (a ``LlamaForCausalLM`` or ``LlamaForSequenceClassification``).
    """
    import torch
    from transformers import LlamaForCausalLM, LlamaForSequenceClassification

    config = llama_config(cfg, vocab_size=vocab_size, bos_token_id=bos_token_id,
                          eos_token_id=eos_token_id, pad_token_id=pad_token_id,
                          attn_implementation=attn_implementation, head=head)
    model_class = LlamaForCausalLM if head == "lm" else LlamaForSequenceClassification
    if device == "meta":
        with torch.device("meta"):
            model = model_class(config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = model_class(config)
    torch.nn.Module.to(model, device=device, dtype=dtype or torch.float32)
    return model


def regression_from_pretrained(path: str, *, pad_token_id: int, vocab_size: int,
                               seed: int = 0) -> Any:
    """A pretrained Llama (any HF checkpoint directory) with a new 1-output regression head,
    its embeddings grown to ``vocab_size`` when the tokenizer is larger.

    The new head's initial weights depend only on ``seed`` (the global RNG is left alone).
    """
    import torch
    from transformers import AutoModelForSequenceClassification

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=1, problem_type="regression", pad_token_id=pad_token_id,
            dtype=torch.float32)
        if model.get_input_embeddings().num_embeddings < vocab_size:
            model.resize_token_embeddings(vocab_size)
    model.config.use_cache = False
    return model


def set_rope_theta(model: Any, theta: float) -> None:
    """Change RoPE's base in place (a continued-pretraining stage's long-context θ).

    Updates the config (so an export carries the new θ) and recomputes the rotary
    frequencies the forward pass uses.
    """
    import torch

    config = model.config
    config.rope_parameters = {**(config.rope_parameters or {}), "rope_type": "default",
                              "rope_theta": float(theta)}
    rotary = model.model.rotary_emb
    inv_freq, scaling = rotary.compute_default_rope_parameters(config, rotary.inv_freq.device)
    with torch.no_grad():
        rotary.inv_freq = inv_freq.to(rotary.inv_freq.dtype)
        rotary.original_inv_freq = rotary.inv_freq.clone()
    rotary.attention_scaling = scaling


def _layer_params(cfg: ModelConfig) -> int:
    h, f = cfg.hidden_size, cfg.intermediate_size
    kv = cfg.num_key_value_heads * cfg.head_dim
    attention = 2 * h * h + 2 * h * kv  # q, o: h x h; k, v: h x kv (no biases)
    return attention + 3 * h * f + 2 * h  # SwiGLU gate/up/down + two RMSNorm weights


def _head_params(cfg: ModelConfig, vocab_size: int, head: Head) -> int:
    """The output layer: vocab x hidden for the LM head (0 when tied), hidden x 1 for the
    regression head (no bias)."""
    if head == "regression":
        return cfg.hidden_size
    return 0 if cfg.tie_word_embeddings else vocab_size * cfg.hidden_size


def parameter_count(cfg: ModelConfig, vocab_size: int, head: Head = "lm") -> int:
    """Exact parameter count of ``build_model(cfg, vocab_size=..., head=...)``, without
    allocating."""
    embeddings = vocab_size * cfg.hidden_size
    return (embeddings + cfg.num_hidden_layers * _layer_params(cfg) + cfg.hidden_size
            + _head_params(cfg, vocab_size, head))


def flops_per_token(cfg: ModelConfig, vocab_size: int, seq_len: int,
                    head: Head = "lm") -> float:
    """Training FLOPs per token: 6 N + 12 L H T (PaLM appendix B; docs/train.md).

    N counts the matmul parameters a token passes through: every layer plus the output head
    (the input embedding is a lookup, not a matmul; a tied LM head is still a matmul). 6 = 2
    (multiply-add) x 3 (forward, backward for activations, backward for weights). The
    attention term is the QK^T and AV products over a context of ``seq_len`` (full, not
    halved for causality, as is usual).
    """
    output = cfg.hidden_size if head == "regression" else vocab_size * cfg.hidden_size
    matmul_params = cfg.num_hidden_layers * _layer_params(cfg) + output
    attention = 12 * cfg.num_hidden_layers * cfg.hidden_size * seq_len
    return float(6 * matmul_params + attention)
