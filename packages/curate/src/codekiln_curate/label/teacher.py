"""The teacher a labeling or rating command asks: an OpenAI-compatible endpoint or a local
Hugging Face model, behind one protocol, with every answer kept in a request cache.

Both ``curate label`` and ``curate web rate`` ask through :func:`ask_cached`, so a rerun
with ``--resume`` (or a shared ``cache``) pays only for the prompts not answered yet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from codekiln_curate.label.cache import RequestCache, request_key

if TYPE_CHECKING:
    from codekiln_curate.label.openai_teacher import Answer
    from codekiln_curate.label.recipe import TeacherConfig


class Teacher(Protocol):
    requests: int

    @property
    def name(self) -> str: ...

    def params(self) -> dict[str, object]: ...

    def answer_all(self, prompts: Sequence[tuple[int, str]]) -> Iterator[Answer]: ...


def build_teacher(config: TeacherConfig) -> Teacher:
    """The teacher ``config`` names (its errors come before any file is read)."""
    if config.kind == "hf":
        from codekiln_core.threads import use_threads
        from codekiln_curate.label.hf_teacher import HFTeacher

        use_threads(load_aware=True)

        return HFTeacher(config)
    from codekiln_curate.label.openai_teacher import OpenAITeacher

    return OpenAITeacher(config)


@dataclass
class Answers:
    """Answers and failures by prompt index; ``hits``: prompts answered from the cache."""

    texts: dict[int, str]
    failures: dict[int, str]
    hits: int


def ask_cached(prompts: Sequence[str], teacher: Teacher, cache_path: Path) -> Answers:
    """Every prompt's answer: cached ones first, each distinct prompt asked at most once,
    each new answer committed to the cache as it arrives."""
    cache = RequestCache(cache_path)
    try:
        return _ask(prompts, teacher, cache)
    finally:
        cache.close()


def _ask(prompts: Sequence[str], teacher: Teacher, cache: RequestCache) -> Answers:
    params = teacher.params()
    keys = [request_key(teacher.name, prompt, params) for prompt in prompts]
    texts: dict[int, str] = {}
    pending: dict[str, tuple[int, str]] = {}
    for index, key in enumerate(keys):
        cached = cache.get(key)
        if cached is not None:
            texts[index] = cached
        elif key not in pending:
            pending[key] = (index, prompts[index])
    hits = len(texts)
    fresh: dict[str, str] = {}
    errors: dict[str, str] = {}
    for answer in teacher.answer_all(list(pending.values())):
        key = keys[answer.index]
        if answer.text is None:
            errors[key] = answer.error or "no answer"
        else:
            cache.put(key, teacher.name, answer.text)
            fresh[key] = answer.text
    failures: dict[int, str] = {}
    for index, key in enumerate(keys):
        if index in texts:
            continue
        if key in fresh:
            texts[index] = fresh[key]
        else:
            failures[index] = errors.get(key, "no answer")
    return Answers(texts, failures, hits)
