"""Choice updates to OpenAI response bodies and stream chunks (completions and chat)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from codekiln_serve.api.schemas import (
    AssistantMessage,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatDelta,
    ChoiceLogprobs,
    Completion,
    CompletionChoice,
    CompletionLogprobs,
    TokenLogprob,
    TopLogprob,
    Usage,
    dump,
)
from codekiln_serve.choices import ChoiceUpdate, LogprobPiece, RunStats
from codekiln_serve.text import token_text
from codekiln_serve.translate import Prompt


@dataclass(frozen=True)
class Meta:
    id: str
    created: int
    model: str


def usage(stats: RunStats) -> Usage:
    return Usage(prompt_tokens=stats.prompt_tokens, completion_tokens=stats.completion_tokens,
                 total_tokens=stats.prompt_tokens + stats.completion_tokens)


@dataclass
class _Text:
    """One completion choice being assembled (text, logprobs, offsets)."""

    text: str = ""
    logprobs: CompletionLogprobs = field(default_factory=CompletionLogprobs)
    finish_reason: str | None = None


class CompletionShaper:
    def __init__(self, meta: Meta, prompts: list[Prompt], n: int, *, echo: bool,
                 want_logprobs: bool, tokenizer: Any) -> None:
        self.meta, self.prompts, self.n, self.echo = meta, prompts, n, echo
        self.want_logprobs, self.tok = want_logprobs, tokenizer

    def _prompt_of(self, index: int) -> Prompt:
        return self.prompts[index // self.n]

    def _piece(self, state: _Text, update: ChoiceUpdate) -> CompletionLogprobs | None:
        """Append this update's logprobs to ``state`` and return just the new part."""
        if not self.want_logprobs:
            return None
        new = CompletionLogprobs()
        offset = len(state.text)
        if update.prompt_logprobs is not None and self.echo:
            prompt = self._prompt_of(update.index)
            at = 0  # the echoed prompt starts the text
            for token_id, lp in zip(prompt.ids, update.prompt_logprobs, strict=False):
                text = token_text(self.tok, token_id)
                new.tokens.append(text)
                new.token_logprobs.append(lp)
                new.top_logprobs.append(None)
                new.text_offset.append(at)
                at += len(text)
        for piece in update.logprobs:
            _add_piece(new, piece, offset)
            offset += len(piece.token)
        for name in ("tokens", "token_logprobs", "top_logprobs", "text_offset"):
            getattr(state.logprobs, name).extend(getattr(new, name))
        return new

    async def collect(self, updates: AsyncIterator[ChoiceUpdate], stats: RunStats,
                      ) -> dict[str, Any]:
        states = [_Text() for _ in range(len(self.prompts) * self.n)]
        if self.echo:
            for i, state in enumerate(states):
                state.text = self._prompt_of(i).text
        async for update in updates:
            state = states[update.index]
            self._piece(state, update)
            state.text += update.text
            state.finish_reason = update.finish_reason or state.finish_reason
        choices = [CompletionChoice(index=i, text=s.text, finish_reason=s.finish_reason or
                                    "length", logprobs=s.logprobs if self.want_logprobs
                                    else None) for i, s in enumerate(states)]  # type: ignore[arg-type]
        return dump(Completion(id=self.meta.id, created=self.meta.created,
                               model=self.meta.model, choices=choices, usage=usage(stats)))

    async def stream(self, updates: AsyncIterator[ChoiceUpdate], stats: RunStats, *,
                     include_usage: bool) -> AsyncIterator[dict[str, Any]]:
        states = [_Text() for _ in range(len(self.prompts) * self.n)]
        echoed: set[int] = set()
        async for update in updates:
            state = states[update.index]
            text = update.text
            if self.echo and update.index not in echoed:
                echoed.add(update.index)
                text = self._prompt_of(update.index).text + text
                state.text = self._prompt_of(update.index).text
            logprobs = self._piece(state, update)
            state.text += update.text
            choice = CompletionChoice(index=update.index, text=text, logprobs=logprobs,
                                      finish_reason=update.finish_reason)  # type: ignore[arg-type]
            yield dump(Completion(id=self.meta.id, created=self.meta.created,
                                  model=self.meta.model, choices=[choice]))
        if include_usage:
            yield dump(Completion(id=self.meta.id, created=self.meta.created,
                                  model=self.meta.model, choices=[], usage=usage(stats)))


def _add_piece(into: CompletionLogprobs, piece: LogprobPiece, offset: int) -> None:
    into.tokens.append(piece.token)
    into.token_logprobs.append(piece.logprob)
    top: dict[str, float] = {}
    for token, value in piece.top:  # likeliest first: two tokens that read alike keep the top
        top.setdefault(token, value)
    into.top_logprobs.append(top)
    into.text_offset.append(offset)


def _chat_logprobs(pieces: list[LogprobPiece]) -> list[TokenLogprob]:
    return [TokenLogprob(token=p.token, logprob=p.logprob if p.logprob is not None else 0.0,
                         bytes=list(p.token.encode()),
                         top_logprobs=[TopLogprob(token=t, logprob=lp, bytes=list(t.encode()))
                                       for t, lp in p.top]) for p in pieces]


class ChatShaper:
    def __init__(self, meta: Meta, n: int, *, want_logprobs: bool) -> None:
        self.meta, self.n, self.want_logprobs = meta, n, want_logprobs

    async def collect(self, updates: AsyncIterator[ChoiceUpdate], stats: RunStats,
                      ) -> dict[str, Any]:
        texts = [""] * self.n
        logprobs: list[list[TokenLogprob]] = [[] for _ in range(self.n)]
        finish: list[str | None] = [None] * self.n
        async for update in updates:
            texts[update.index] += update.text
            logprobs[update.index].extend(_chat_logprobs(update.logprobs))
            finish[update.index] = update.finish_reason or finish[update.index]
        choices = [ChatChoice(index=i, message=AssistantMessage(content=texts[i]),
                              logprobs=ChoiceLogprobs(content=logprobs[i])
                              if self.want_logprobs else None,
                              finish_reason=finish[i] or "length")  # type: ignore[arg-type]
                   for i in range(self.n)]
        return dump(ChatCompletion(id=self.meta.id, created=self.meta.created,
                                   model=self.meta.model, choices=choices, usage=usage(stats)))

    def _chunk(self, choice: ChatChunkChoice) -> dict[str, Any]:
        return dump(ChatCompletionChunk(id=self.meta.id, created=self.meta.created,
                                        model=self.meta.model, choices=[choice]))

    async def stream(self, updates: AsyncIterator[ChoiceUpdate], stats: RunStats, *,
                     include_usage: bool) -> AsyncIterator[dict[str, Any]]:
        for i in range(self.n):  # the role first, as OpenAI does
            yield self._chunk(ChatChunkChoice(index=i, delta=ChatDelta(role="assistant",
                                                                       content="")))
        async for update in updates:
            logprobs = (ChoiceLogprobs(content=_chat_logprobs(update.logprobs))
                        if self.want_logprobs and update.logprobs else None)
            delta = ChatDelta(content=update.text or None)
            if update.text or logprobs is not None:
                yield self._chunk(ChatChunkChoice(index=update.index, delta=delta,
                                                  logprobs=logprobs))
            if update.finish_reason is not None:
                yield self._chunk(ChatChunkChoice(index=update.index, delta=ChatDelta(),
                                                  finish_reason=update.finish_reason))  # type: ignore[arg-type]
        if include_usage:
            yield dump(ChatCompletionChunk(id=self.meta.id, created=self.meta.created,
                                           model=self.meta.model, choices=[],
                                           usage=usage(stats)))
