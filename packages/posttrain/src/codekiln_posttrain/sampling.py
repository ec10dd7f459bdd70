"""N answers per chat prompt from the one generation layer (:mod:`codekiln_core.generation`).

DPO pair building, the GRPO rollouts and the curriculum pre-pass all ask for "n completions
of each prompt". They go to whichever generator the engine registry builds: the in-process
continuous-batching transformers engine (over a model directory, or the policy being trained,
sampled in place), vLLM, or an OpenAI-compatible endpoint. A local engine gets the prompt as
this package's chat template renders it for training, so rollouts and updates see the same
ids; each prompt carries its own seed, so a group's samples do not depend on its batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.generation import (
    GenerationRequest,
    Generator,
    Messages,
    Sample,
    SamplingParams,
    sample_seed,
)

if TYPE_CHECKING:
    from codekiln_core.generation import GeneratorSpec

Completion = Sample  # what GRPO and DPO call one sampled answer


@dataclass
class ChatSampler:
    """A generator plus the model it samples in place, if any (put in eval mode while
    sampling, then back in the mode it was in)."""

    generator: Generator
    top_p: float = 1.0
    policy: Any = field(default=None)

    @classmethod
    def open(cls, spec: GeneratorSpec, top_p: float = 1.0) -> ChatSampler:
        from codekiln_core.generation import open_generator

        policy = spec.loaded[0] if spec.loaded is not None else None
        return cls(open_generator(spec), top_p, policy)

    def requests(self, prompts: list[Messages], n: int, *, max_new_tokens: int,
                 temperature: float, seed: int | None) -> list[GenerationRequest]:
        from codekiln_posttrain.chat.template import encode_prompt

        params = SamplingParams(temperature=temperature, top_p=self.top_p,
                                max_new_tokens=max_new_tokens)
        tokenizer = self.generator.tokenizer
        out = []
        for i, prompt in enumerate(prompts):
            prompt_seed = None if seed is None else sample_seed(seed, i)
            if tokenizer is None:  # an endpoint renders its own template
                out.append(GenerationRequest(messages=prompt, n=n, params=params,
                                             seed=prompt_seed))
            else:
                ids = tuple(encode_prompt(tokenizer, prompt))
                out.append(GenerationRequest(prompt_ids=ids, n=n, params=params,
                                             seed=prompt_seed))
        return out

    def sample(self, prompts: list[Messages], n: int, *, max_new_tokens: int,
               temperature: float, seed: int | None = None) -> list[list[Completion]]:
        """``n`` completions of each prompt; prompt ``i`` is seeded from ``(seed, i)``."""
        requests = self.requests(prompts, n, max_new_tokens=max_new_tokens,
                                 temperature=temperature, seed=seed)
        with self._eval_mode():
            return self.generator.generate(requests)

    @contextmanager
    def _eval_mode(self) -> Iterator[None]:
        if self.policy is None:
            yield
            return
        was_training = self.policy.training
        self.policy.eval()
        try:
            yield
        finally:
            self.policy.train(was_training)

    def close(self) -> None:
        self.generator.close()
