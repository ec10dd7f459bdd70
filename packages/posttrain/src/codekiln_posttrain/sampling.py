"""Sample N answers per prompt: from a local transformers model or any OpenAI endpoint.

DPO pair building and the GRPO curriculum pre-pass both need "N completions of each
prompt"; the local sampler also returns token ids and a truncation flag (what GRPO
trains on), the endpoint sampler only text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Completion:
    text: str
    truncated: bool  # stopped by max_new_tokens, not by end of sentence
    token_ids: tuple[int, ...] = ()


class Sampler(Protocol):
    def sample(self, prompts: list[Messages], n: int, *, max_new_tokens: int,
               temperature: float) -> list[list[Completion]]: ...


class TransformersSampler:
    """``model.generate`` over left-padded chat prompts, ``n`` samples each."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_prompts: int = 8,
                 top_p: float = 1.0) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.batch_prompts, self.top_p = batch_prompts, top_p

    @classmethod
    def from_dir(cls, model_dir: str, **kwargs: Any) -> TransformersSampler:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        return cls(model, tokenizer, **kwargs)

    def prompt_batch(self, prompts: list[Messages]) -> dict[str, torch.Tensor]:
        import torch

        from codekiln_posttrain.chat.template import encode_prompt

        ids = [encode_prompt(self.tokenizer, p) for p in prompts]
        width = max(map(len, ids))
        pad = self.tokenizer.pad_token_id
        pad = self.tokenizer.eos_token_id if pad is None else pad
        return {"input_ids": torch.tensor([[pad] * (width - len(x)) + x for x in ids]),
                "attention_mask": torch.tensor([[0] * (width - len(x)) + [1] * len(x)
                                                for x in ids])}

    def sample(self, prompts: list[Messages], n: int, *, max_new_tokens: int,
               temperature: float) -> list[list[Completion]]:
        import torch

        out: list[list[Completion]] = []
        eos = self.tokenizer.eos_token_id
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        for start in range(0, len(prompts), self.batch_prompts):
            chunk = prompts[start:start + self.batch_prompts]
            batch = {k: v.to(device) for k, v in self.prompt_batch(chunk).items()}
            with torch.no_grad():
                generated = self.model.generate(
                    **batch, do_sample=temperature > 0, temperature=temperature or None,
                    top_p=self.top_p, max_new_tokens=max_new_tokens, num_return_sequences=n,
                    pad_token_id=self.tokenizer.pad_token_id, eos_token_id=eos)
            new = generated[:, batch["input_ids"].shape[1]:].tolist()
            for i in range(len(chunk)):
                group = []
                for ids in new[i * n:(i + 1) * n]:
                    ended = eos in ids
                    ids = ids[: ids.index(eos) + 1] if ended else ids
                    text = self.tokenizer.decode([t for t in ids if t != eos],
                                                 skip_special_tokens=True)
                    group.append(Completion(text, not ended, tuple(ids)))
                out.append(group)
        self.model.train(was_training)
        return out


class EndpointSampler:
    """``n`` chat completions per prompt from an OpenAI-compatible server."""

    def __init__(self, base_url: str, model: str, *, top_p: float = 1.0) -> None:
        from codekiln_core.clients import openai_client

        self.client, self.model, self.top_p = openai_client(base_url), model, top_p

    def sample(self, prompts: list[Messages], n: int, *, max_new_tokens: int,
               temperature: float) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            reply = self.client.chat.completions.create(
                model=self.model, messages=prompt,  # type: ignore[arg-type]
                n=n, max_tokens=max_new_tokens, temperature=temperature, top_p=self.top_p)
            out.append([Completion(c.message.content or "", c.finish_reason == "length")
                        for c in reply.choices])
        return out
