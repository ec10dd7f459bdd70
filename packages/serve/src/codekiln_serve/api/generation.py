"""What every generation route shares: the served model, one started completion run, and
its metrics. The OpenAI, llama.cpp, Ollama and Codestral routes all turn their request into
a :class:`CompletionRequest` and start it here, so they build the same ids for the same code.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from codekiln_serve.api.errors import APIError
from codekiln_serve.api.schemas import CompletionRequest
from codekiln_serve.api.streaming import Drain
from codekiln_serve.choices import ChoiceUpdate, RunStats, run_choices
from codekiln_serve.engines.base import Engine, TokenEngine
from codekiln_serve.metrics import ServeMetrics
from codekiln_serve.translate import (
    ModelFacts,
    Prompt,
    completion_prompts,
    completion_sampling,
    sequence_requests,
)


@dataclass
class Served:
    """The model behind the routes and the server-wide state they share."""

    engine: Engine
    facts: ModelFacts | None
    metrics: ServeMetrics
    names: list[str]
    drain: Drain

    def token_side(self, protocol: str) -> tuple[TokenEngine, ModelFacts]:
        """The token engine and its facts; a pass-through engine serves only OpenAI routes."""
        if not isinstance(self.engine, TokenEngine) or self.facts is None:
            raise APIError(400, f"{protocol} needs a model served here; the openai-http "
                                "engine forwards /v1/completions and /v1/chat/completions "
                                "only", code="unsupported_route")
        return self.engine, self.facts


@dataclass
class Generation:
    """A started request: its prompts, the choice updates to consume, and the accounting."""

    prompts: list[Prompt]
    updates: AsyncIterator[ChoiceUpdate]
    stats: RunStats
    started: float
    route: str
    metrics: ServeMetrics

    def finished(self) -> None:
        """Record latency and tokens once the response is complete (or cut)."""
        self.metrics.latency.labels(self.route).observe(time.perf_counter() - self.started)
        self.metrics.prompt_tokens.inc(self.stats.prompt_tokens)
        self.metrics.generation_tokens.inc(self.stats.completion_tokens)


def start_completion(served: Served, route: str, body: CompletionRequest, *,
                     truncate: bool = False, protocol: str = "this route") -> Generation:
    """Build the prompts and submit every sequence (refusals raise before any byte is sent)."""
    engine, facts = served.token_side(protocol)
    started = time.perf_counter()
    prompts = completion_prompts(body, facts, truncate=truncate)
    sampling = completion_sampling(body, facts)
    requests = sequence_requests(sampling, prompts, facts, body.max_tokens, None)
    stats = RunStats(prompt_tokens=sum(len(p.ids) for p in prompts))
    ttft = served.metrics.ttft.labels(route)
    updates = run_choices(engine, requests, sampling.stops, stats, drain=served.drain,
                          on_first_token=lambda: ttft.observe(time.perf_counter() - started))
    return Generation(prompts, updates, stats, started, route, served.metrics)
