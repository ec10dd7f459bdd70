"""Prometheus metrics of one server (its own registry, so tests can run several servers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ServeMetrics:
    """Requests, tokens in/out, latency and time-to-first-token, queue depth and batch size."""

    def __init__(self, queue_depth: Callable[[], float], running: Callable[[], float]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        reg: Any = self.registry
        self.requests = Counter("codekiln_serve_requests", "HTTP requests by route and status",
                                ["route", "status"], registry=reg)
        self.prompt_tokens = Counter("codekiln_serve_prompt_tokens", "prompt tokens read",
                                     registry=reg)
        self.generation_tokens = Counter("codekiln_serve_generation_tokens",
                                         "tokens generated", registry=reg)
        self.latency = Histogram("codekiln_serve_request_latency_seconds",
                                 "end-to-end latency of generation requests", ["route"],
                                 buckets=_LATENCY_BUCKETS, registry=reg)
        self.ttft = Histogram("codekiln_serve_time_to_first_token_seconds",
                              "time from request to the first generated text", ["route"],
                              buckets=_TTFT_BUCKETS, registry=reg)
        queue = Gauge("codekiln_serve_queue_depth", "sequences waiting for a batch slot",
                      registry=reg)
        queue.set_function(queue_depth)
        batch = Gauge("codekiln_serve_running_sequences", "sequences in the running batch",
                      registry=reg)
        batch.set_function(running)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
