"""Shared by the end-to-end tests: the stand-in for a hosted teacher LLM (core's fake OpenAI
server, a real local HTTP server) that rates each file by a fixed rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from codekiln_core.fake_openai import fake_openai_server


@contextmanager
def teacher_server(rate: Callable[[str], int]) -> Iterator[str]:
    """Serve ``rate(prompt)`` as a Seed-Coder-rubric answer; yields the base URL."""
    def rated(body: dict[str, Any], n: int) -> list[str]:
        rating = rate(body["messages"][-1]["content"])
        return [f"Explanation: judged by docstrings and comments.\nRating: [[{rating}]]"] * n

    with fake_openai_server(reply=rated) as fake:
        yield f"{fake.url}/v1"


def documented_rating(prompt: str) -> int:
    """Stand-in rubric: documented code rates high, bare code low (1..10)."""
    return min(10, 1 + prompt.count('"""') + prompt.count("# "))


@pytest.fixture
def documented_teacher_url() -> Iterator[str]:
    """A teacher endpoint rating by ``documented_rating``: what the e2e chains label with."""
    with teacher_server(documented_rating) as url:
        yield url
