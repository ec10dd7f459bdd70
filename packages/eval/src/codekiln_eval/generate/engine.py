"""Benchmark prompts on the one generation layer (:mod:`codekiln_core.generation`).

A local model runs on the in-process engine (continuous batching, or vLLM on a GPU), so a
whole chunk of tasks — every sample of every task — decodes together; an endpoint gets
``concurrency`` requests at once. Chat prompts go through the model's chat template, FIM
prompts are laid out by ``codekiln_core.fim`` exactly as the shards and ``codekiln serve``
lay them out (in ``fim_layout``: the model's own, else SPM), or by the endpoint. A seed is
spread per task, so reruns and resumes draw the same samples whatever else is in the batch.
"""

from __future__ import annotations

from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.fim import FimUnsupportedError, fim_prompt_ids, find_fim_tokens
from codekiln_core.generation import GenerationRequest, Generator, prompt_seed
from codekiln_core.generation import SamplingParams as CoreParams
from codekiln_eval.generate.base import Prompt, SamplingParams

LOCAL_SEQUENCES_PER_CALL = 256  # a local chunk: enough to fill the batch, small to resume


class EvalGenerator:
    """Samples for benchmark prompts from any core generator (local engine or endpoint)."""

    def __init__(self, generator: Generator, *, fim_layout: str = "spm",
                 fim_api: str = "completions", concurrency: int = 8) -> None:
        self.generator = generator
        self.model_name = generator.model_name
        self.tokenizer = generator.tokenizer
        self.local = self.tokenizer is not None
        self.fim_layout, self.fim_api, self.concurrency = fim_layout, fim_api, concurrency
        self.fim_tokens = find_fim_tokens(self.tokenizer) if self.local else None
        self.has_chat_template = (not self.local
                                  or bool(getattr(self.tokenizer, "chat_template", None)))
        self._fim: dict[str, Any] | None = None

    @property
    def fim(self) -> dict[str, Any]:
        """How FIM prompts are laid out (recorded in the run's summary)."""
        if self._fim is None:
            if self.local:
                self._fim = {"layout": self.fim_layout, "applied_by": "local tokenizer",
                             "sentinels": list(self.fim_tokens.names) if self.fim_tokens
                             else None}
            else:
                from codekiln_eval.generate.openai import endpoint_fim

                self._fim = endpoint_fim(self.generator, self.fim_api)
        return self._fim

    def tasks_per_call(self, n: int) -> int:
        """How many tasks one :meth:`generate` call takes (each chunk is logged on arrival)."""
        return max(1, LOCAL_SEQUENCES_PER_CALL // n) if self.local else 4 * self.concurrency

    def request(self, prompt: Prompt, n: int, params: SamplingParams) -> GenerationRequest:
        core = CoreParams(temperature=params.temperature, top_p=params.top_p,
                          repetition_penalty=params.repetition_penalty,
                          max_new_tokens=params.max_tokens, stop=params.stop)
        seed = params.seed
        if seed is not None and self.local:  # per task: the same samples in any batch
            seed = prompt_seed(seed, prompt.task_id)
        if prompt.is_chat:
            if not self.has_chat_template:
                raise ConfigError(f"model {self.model_name} has no chat template; use "
                                  "--mode completion")
            return GenerationRequest(messages=prompt.messages, n=n, params=core, seed=seed)
        if prompt.is_fim and self.local:
            return GenerationRequest(prompt_ids=tuple(self._fim_ids(prompt)), n=n,
                                     params=core, seed=seed)
        return GenerationRequest(prompt=prompt.text or "", suffix=prompt.suffix, n=n,
                                 params=core, seed=seed)

    def _fim_ids(self, prompt: Prompt) -> list[int]:
        try:
            return fim_prompt_ids(self.tokenizer, self.fim_tokens, prompt.text or "",
                                  prompt.suffix or "", self.fim_layout)
        except FimUnsupportedError as exc:
            raise ConfigError(f"--model {self.model_name}: its tokenizer has no fill-in-the-"
                              "middle tokens; --mode fim needs a FIM-trained model (or use "
                              "--mode completion, prefix only)") from exc

    def generate(self, prompts: list[Prompt], ns: list[int], params: SamplingParams,
                 ) -> list[list[str]]:
        """``ns[i]`` sample texts of ``prompts[i]``, for all prompts in one batch."""
        if self.fim_api == "infill" and not self.local and any(p.is_fim for p in prompts):
            from codekiln_eval.generate.openai import infill_samples

            return [infill_samples(self.generator, p, n, params) for p, n in
                    zip(prompts, ns, strict=True)]
        requests = [self.request(p, n, params) for p, n in zip(prompts, ns, strict=True)]
        return [[s.text for s in group] for group in self.generator.generate(requests)]

    def close(self) -> None:
        self.generator.close()
