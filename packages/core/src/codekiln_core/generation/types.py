"""What every sampler asks a generation engine for, and what it gets back.

Eval, DPO pairs, GRPO rollouts, teacher labels and instruction synthesis all need "n samples
of each of these prompts"; they describe it with these types and hand it to whichever
:class:`Generator` :func:`~codekiln_core.generation.open_generator` built (in-process
transformers, vLLM, an OpenAI-compatible endpoint, a plugin's engine).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FinishReason = Literal["stop", "length"]
Messages = list[dict[str, str]]


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings shared by every sample of a request (vLLM's meanings)."""

    temperature: float = 1.0  # 0: greedy
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    repetition_penalty: float = 1.0
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()  # the text ends before the first of these (finish "stop")
    logprobs: bool = False  # return each sampled token's log-probability


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt and how many samples of it: exactly one of ``prompt`` (raw text),
    ``messages`` (a chat, rendered by the model's template) or ``prompt_ids`` (already
    tokenized, for callers that lay prompts out themselves: FIM, a training template).

    ``seed`` fixes the prompt's samples: sample ``j`` draws from ``sample_seed(seed, j)``,
    so reruns, resumes and other batch compositions draw the same samples."""

    prompt: str | None = None
    messages: Messages | None = None
    prompt_ids: tuple[int, ...] | None = None
    suffix: str | None = None  # fill-in-the-middle through an endpoint's `suffix` field
    n: int = 1
    params: SamplingParams = field(default_factory=SamplingParams)
    seed: int | None = None

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.prompt, self.messages, self.prompt_ids)]
        if sum(given) != 1:
            raise ValueError("a GenerationRequest takes exactly one of prompt, messages or "
                             "prompt_ids")
        if self.n < 1:
            raise ValueError(f"n={self.n}: ask for at least one sample")


@dataclass(frozen=True)
class Sample:
    """One generated sample. ``token_ids`` include a closing end-of-sequence token when the
    model produced one (what a policy update trains on); ``text`` never shows it, nor a stop
    string. Endpoints return no token ids."""

    text: str
    token_ids: tuple[int, ...] = ()
    logprobs: tuple[float, ...] | None = None  # one per token id, when asked
    finish_reason: FinishReason = "stop"

    @property
    def truncated(self) -> bool:
        """Cut by ``max_new_tokens`` (or the context), not ended by the model."""
        return self.finish_reason == "length"


class Generator(Protocol):
    """Samples for a batch of requests; one list of ``n`` samples per request, in order.
    Implementations batch across requests and samples however their engine allows."""

    model_name: str
    tokenizer: Any  # the model's tokenizer, or None for an endpoint

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Sample]]: ...

    def close(self) -> None: ...


def sample_seed(seed: int, index: int) -> int:
    """The seed of sample ``index`` of a prompt seeded ``seed`` (63 bits, well mixed)."""
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def prompt_seed(seed: int, key: str) -> int:
    """A per-prompt seed from a run seed and a stable prompt key (a task id, a row index)."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
