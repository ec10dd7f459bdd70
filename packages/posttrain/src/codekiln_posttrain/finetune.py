"""Fine-tuning a start model, as SFT, DPO and GRPO all do: load it, step it on
codekiln_train's engine, export and register the result.

Training itself is ``codekiln_train``'s: ``Engine`` steps the model, ``loop.train`` runs the
steps (checkpoints, resume, metrics, MFU), ``export.export_hf`` writes the result. The
lineage run is the command's (core opened it); it comes in as ``run``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef, LineageRun
    from codekiln_posttrain.recipe import BaseRecipe, DpoRecipe, SftRecipe


def build_engine(model: Any, recipe: BaseRecipe, total_steps: int) -> Any:
    """codekiln_train's engine over ``total_steps`` steps of the recipe's schedule."""
    from codekiln_train.engine.deepspeed_engine import Engine
    from codekiln_train.schedule import check_schedule

    check_schedule(recipe.schedule, total_steps, source="schedule")
    return Engine.create(model, recipe.engine, schedule=recipe.schedule,
                         total_steps=total_steps, seq_len=recipe.max_seq_len,
                         device=device_arg(recipe))


def pad_token_id(tokenizer: Any) -> int:
    """The tokenizer's pad id; EOS when it has none (Llama-style tokenizers)."""
    pad = tokenizer.pad_token_id
    return int(tokenizer.eos_token_id if pad is None else pad)


def examples_per_step(recipe: BaseRecipe, ranks: int) -> int:
    """The global batch: micro-batch x accumulation x ranks (accumulation from
    ``engine.global_batch_tokens`` when given, as codekiln_train's engine computes it)."""
    from codekiln_train.engine.config import accumulation_steps

    accumulation = accumulation_steps(recipe.engine, seq_len=recipe.max_seq_len,
                                      world_size=ranks)
    return recipe.engine.micro_batch_size * accumulation * ranks


def planned_steps(recipe: SftRecipe | DpoRecipe, examples: int) -> int:
    """``max_steps``, else ``epochs`` passes over ``examples`` in global batches."""
    from codekiln_posttrain.ranks import rank_and_world

    per_step = examples_per_step(recipe, rank_and_world()[1])
    return recipe.max_steps or max(1, math.ceil(recipe.epochs * examples / per_step))


def train_examples(engine: Any, recipe: SftRecipe | DpoRecipe, run: LineageRun, *,
                   total_steps: int, examples: list[Any], collate: Callable[[list[Any]], Any],
                   loss_fn: Any, tokens_per_example: int, label: str,
                   resume: bool) -> Any:
    """SFT's and DPO's training: ``total_steps`` over ``examples`` with codekiln_train's
    loop, each rank on its own micro-batches of every global batch; the loop's summary."""
    from codekiln_posttrain.batches import ExampleBatches
    from codekiln_train.loop import LoopConfig, train

    per_step = recipe.engine.micro_batch_size * engine.gradient_accumulation_steps \
        * engine.world_size
    batches = ExampleBatches(examples, micro_batch_size=recipe.engine.micro_batch_size,
                             seed=recipe.seed, collate=collate, rank=engine.rank,
                             world_size=engine.world_size)
    loop = LoopConfig(total_steps=total_steps, log=recipe.log, checkpoint=recipe.checkpoint,
                      seed=recipe.seed, log_loss_metrics=True)
    summary = train(engine=engine, batches=batches, loss_fn=loss_fn, loop=loop,
                    checkpoint_dir=recipe.output / "checkpoints", run=run,
                    tokens_per_step=per_step * tokens_per_example,
                    flops_per_token=model_flops_per_token(engine.module, recipe.max_seq_len),
                    resume=resume, progress_label=label,
                    metrics_file=recipe.output / "metrics.jsonl")
    run.log_metrics({"train_loss": summary.final_loss}, step=summary.steps)
    return summary


def smallest_grad_norm(output: Path) -> dict[str, float]:
    """``grad_norm_min`` over every step of the run (rank 0's ``metrics.jsonl``, resumed
    runs included): a step that learnt nothing shows as ~0. Empty on other ranks."""
    from codekiln_train.metrics import read_metrics

    path = output / "metrics.jsonl"
    norms = [float(r["grad_norm"]) for r in (read_metrics(path) if path.is_file() else [])
             if "grad_norm" in r]
    return {"grad_norm_min": min(norms)} if norms else {}


def start_model_path(recipe: BaseRecipe) -> Path:
    """The start model as a local directory (``codekiln_core.start_model``: a directory, a
    GGUF, pkg:NAME, a hub id or models:/NAME/VERSION; fetched or converted once)."""
    from codekiln_core.start_model import parse_start_model, start_model_dir

    return start_model_dir(parse_start_model(recipe.model, key="model"))


def load_start(recipe: BaseRecipe, *, packed: bool = False) -> tuple[Any, Any]:
    """The model to train (fp32) and its tokenizer. ``packed``: SFT's and DPO's packed rows,
    attended document by document (``sdpa_documents``); else SDPA with masks (GRPO, which
    also generates)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codekiln_core.chat import chat_template
    from codekiln_core.threads import use_threads
    from codekiln_train.models.document_attention import register

    use_threads()

    attention = register() if packed else "sdpa"
    model_dir = start_model_path(recipe)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if recipe.chat_template is not None or not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = chat_template(recipe.chat_template or "seed-coder")
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation=attention,
                                                 dtype="float32")
    return model, tokenizer


def start_inputs(recipe: BaseRecipe, data_name: str) -> list[InputRef]:
    """The start model and the dataset, each linking to the run that made it (checked to
    exist first: a one-line error before anything loads)."""
    from codekiln_core.lineage import InputRef
    from codekiln_core.start_model import parse_start_model, start_model_input
    from codekiln_posttrain.chat.datasets import dataset_files
    from codekiln_posttrain.grpo.verl_backend import loaded_on_the_cluster

    if getattr(recipe, "backend", "local") == "verl" and loaded_on_the_cluster(recipe.model):
        # verl's workers load it on the cluster (a hub id, or a path on its shared
        # filesystem); the launching host may reach neither
        model_ref = InputRef(name="start-model", source=recipe.model)
    else:
        model_ref = start_model_input(parse_start_model(recipe.model, key="model"))
    for path in recipe.data:
        dataset_files(path)
    names = [data_name] + [f"{data_name}-{i}" for i in range(2, len(recipe.data) + 1)]
    return [model_ref, *(InputRef.from_path(path, name=name)
                         for path, name in zip(recipe.data, names, strict=True))]


def export_and_register(model: Any, tokenizer: Any, recipe: BaseRecipe, run: LineageRun,
                        name: str) -> tuple[Path, str]:
    """Export the trained model beside the run and log/register it (returns dir, uri)."""
    from codekiln_posttrain.ranks import barrier, is_rank_zero
    from codekiln_train.export import export_hf

    tokenizer_dir = recipe.output / "tokenizer"
    if is_rank_zero():
        tokenizer.save_pretrained(str(tokenizer_dir))
    barrier()  # every rank's export reads the tokenizer rank 0 wrote
    out = export_hf(model, tokenizer_dir=tokenizer_dir, out_dir=recipe.output / "model",
                    bos_token_id=_id(tokenizer.bos_token_id, tokenizer.eos_token_id),
                    eos_token_id=int(tokenizer.eos_token_id),
                    chat_template=tokenizer.chat_template,
                    pad_token_id=tokenizer.pad_token_id)
    uri = run.log_model(out, name=name, register_as=recipe.register_as)
    return out, uri


def _id(value: int | None, fallback: int) -> int:
    return int(fallback if value is None else value)


def device_arg(recipe: BaseRecipe) -> str | None:
    return None if recipe.device == "auto" else recipe.device


def model_flops_per_token(model: Any, seq_len: int) -> float:
    """codekiln_train's FLOPs-per-token formula for a loaded Hugging Face Llama."""
    from codekiln_train.models import ModelConfig, flops_per_token

    c = model.config
    shape = ModelConfig(
        hidden_size=c.hidden_size, intermediate_size=c.intermediate_size,
        num_hidden_layers=c.num_hidden_layers, num_attention_heads=c.num_attention_heads,
        num_key_value_heads=getattr(c, "num_key_value_heads", c.num_attention_heads),
        max_position_embeddings=c.max_position_embeddings,
        tie_word_embeddings=bool(getattr(c, "tie_word_embeddings", False)))
    return flops_per_token(shape, c.vocab_size, seq_len)


def model_lines(model_dir: str, model_uri: str, register_as: str | None) -> list[str]:
    """The closing summary's lines: where the model is and under which URI it was logged."""
    lines = [f"model: {model_dir}"]
    if model_uri.startswith("models:/"):
        lines.append(f"{'registered' if register_as else 'logged model'}: {model_uri}")
    return lines
