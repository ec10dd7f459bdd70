"""Samples from a local Hugging Face model directory with transformers (CPU or one GPU).

Chat prompts go through the tokenizer's chat template; FIM prompts are laid out by
``codekiln_core.fim`` exactly as the shards and ``codekiln serve`` lay them out (in the
layout the model was trained in, else SPM, unless ``fim_layout`` names one); stop strings
end generation early (``stop_strings``) and are cut client-side again by the benchmark.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.fim import (
    FimUnsupportedError,
    fim_prompt_ids,
    find_fim_tokens,
    serving_fim_layout,
)
from codekiln_eval.generate.base import Prompt, SamplingParams


class HFGenerator:
    """One in-process model; generation is serial (``concurrency`` 1), samples batched."""

    concurrency = 1

    def __init__(self, model_dir: str | Path, device: str | None = None,
                 fim_layout: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_dir)
        if not (path / "config.json").exists():
            raise ConfigError(f"--model {path}: no config.json; pass a Hugging Face model "
                              "directory (save_pretrained output) or an http(s) endpoint")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        self.model = model.to(self.device)
        self.model.eval()
        self.model_name = path.name
        self.has_chat_template = bool(getattr(self.tokenizer, "chat_template", None))
        self.fim_tokens = find_fim_tokens(self.tokenizer)
        self.fim = {"layout": serving_fim_layout(fim_layout, path),
                    "applied_by": "local tokenizer",
                    "sentinels": list(self.fim_tokens.names) if self.fim_tokens else None}

    def _prompt_text(self, prompt: Prompt) -> str:
        if not prompt.is_chat:
            return prompt.text or ""
        if not self.has_chat_template:
            raise ConfigError(f"model {self.model_name} has no chat template; use "
                              "--mode completion")
        return str(self.tokenizer.apply_chat_template(
            prompt.messages, tokenize=False, add_generation_prompt=True))

    def _input_ids(self, prompt: Prompt, max_new: int) -> Any:
        import torch

        if prompt.is_fim:
            return torch.tensor([self._fim_ids(prompt)], device=self.device)
        text = self._prompt_text(prompt)
        ids = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and ids.shape[1] + max_new > limit:  # keep the end: it is what gets completed
            ids = ids[:, -max(1, limit - max_new):]
        return ids.to(self.device)

    def _fim_ids(self, prompt: Prompt) -> list[int]:
        try:
            return fim_prompt_ids(self.tokenizer, self.fim_tokens, prompt.text or "",
                                  prompt.suffix or "", str(self.fim["layout"]))
        except FimUnsupportedError as exc:
            raise ConfigError(f"--model {self.model_name}: its tokenizer has no fill-in-the-"
                              "middle tokens; --mode fim needs a FIM-trained model (or use "
                              "--mode completion, prefix only)") from exc

    def generate(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]:
        import torch

        ids = self._input_ids(prompt, params.max_tokens)
        if params.seed is not None:  # per-task seed: reruns and resumes draw the same samples
            digest = hashlib.sha256(f"{params.seed}:{prompt.task_id}".encode()).digest()
            torch.manual_seed(int.from_bytes(digest[:4], "little"))
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "num_return_sequences": n,
            "repetition_penalty": params.repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id,
            "attention_mask": torch.ones_like(ids),
        }
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        with torch.no_grad():
            out = self.model.generate(ids, **kwargs)
        return [str(self.tokenizer.decode(row[ids.shape[1]:], skip_special_tokens=True))
                for row in out]

    def close(self) -> None:
        self.model = None
