"""Continuous batching for a Hugging Face causal LM: one step loop, one padded KV cache.

A worker thread runs the loop. Each step it (1) drops sequences that finished or whose
client went away, trimming the cache to what the survivors need, (2) admits waiting
sequences — prefilled together, left-padded, each distinct prompt once (the n samples of a
prompt copy its cache rows) — and merges their caches into the running batch, and (3) runs
one decode step for every running sequence at once. New requests join between steps, so a
long completion never holds up a short one.

Cache layout: per layer ``[batch, kv_heads, T, head_dim]``; row i's real tokens are the last
``length_i`` columns (left padding), so the attention mask and position ids follow from the
lengths alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_serve.engines.base import (
    EngineStats,
    GenerationRequest,
    QueueFullError,
    RequestTooLargeError,
    SequenceHandle,
    TokenEvent,
)
from codekiln_serve.sampling import Choice, RowState, choose, new_row

if TYPE_CHECKING:
    import torch

log = logging.getLogger("codekiln.serve.scheduler")


class EngineFault(RuntimeError):
    """The model step failed (our fault, not the client's): the request gets a 500."""


@dataclass(eq=False)
class _Seq:
    request: GenerationRequest
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[TokenEvent | EngineFault | None] = field(
        default_factory=asyncio.Queue)
    row: RowState | None = None
    length: int = 0  # tokens in the KV cache
    pending: int = -1  # the last sampled token, fed at the next decode step
    generated: int = 0
    cancelled: bool = False
    finished: bool = False

    def emit(self, event: TokenEvent | EngineFault | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)


class _Handle(SequenceHandle):
    def __init__(self, seq: _Seq) -> None:
        self._seq = seq

    async def events(self) -> AsyncIterator[TokenEvent]:
        while True:
            event = await self._seq.queue.get()
            if event is None:
                return
            if isinstance(event, EngineFault):
                raise event
            yield event
            if event.finish_reason is not None:
                return

    def cancel(self) -> None:
        if not self._seq.cancelled:
            self._seq.cancelled = True
            self._seq.queue.put_nowait(None)


class ContinuousBatcher:
    """Owns the model on its worker thread; ``submit`` is called from the event loop."""

    def __init__(self, model: Any, *, max_batch: int, max_queue: int, max_prefill_tokens: int,
                 context_length: int, stats: EngineStats | None = None) -> None:
        self.model = model
        self.max_batch, self.max_queue = max_batch, max_queue
        self.max_prefill_tokens, self.context_length = max_prefill_tokens, context_length
        self.stats = stats or EngineStats()
        self._waiting: deque[_Seq] = deque()
        self._active: list[_Seq] = []
        self._cache: Any = None
        self._width = 0  # T, the cache's sequence dimension
        self._cv = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device  # type: ignore[no-any-return]

    def queue_depth(self) -> int:
        return len(self._waiting)

    def running(self) -> int:
        return len(self._active)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="codekiln-serve-batcher",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def submit(self, requests: Sequence[GenerationRequest]) -> list[SequenceHandle]:
        if len(requests) > self.max_queue:  # all wait in the queue first: they never fit
            raise RequestTooLargeError(len(requests), self.max_queue, "--max-queue")
        loop = asyncio.get_running_loop()
        seqs = [_Seq(r, loop) for r in requests]
        with self._cv:
            if len(self._waiting) + len(seqs) > self.max_queue:
                raise QueueFullError(f"{len(self._waiting)} sequences waiting, limit "
                                     f"{self.max_queue}")
            self._waiting.extend(seqs)
            self._cv.notify_all()
        return [_Handle(s) for s in seqs]

    # --- the worker thread -------------------------------------------------------------

    def _run(self) -> None:
        import torch

        with torch.inference_mode():
            while self._wait_for_work():
                try:
                    self._step()
                except Exception as exc:  # a fault of ours: fail this batch, keep serving
                    log.exception("decode step failed; failing the running sequences")
                    self._fail_running(exc)

    def _fail_running(self, exc: Exception) -> None:
        self.error = exc
        for seq in self._active:
            seq.finished = True
            seq.emit(EngineFault(f"{type(exc).__name__}: {exc}"))
        self._active, self._cache, self._width = [], None, 0

    def _wait_for_work(self) -> bool:
        with self._cv:
            while not self._stop and not self._active and not self._waiting:
                self._cv.wait()
            return not self._stop

    def _step(self) -> None:
        self._retire()
        admitted = self._admit()
        if admitted:
            self._prefill(admitted)
            self._retire()
        if self._active:
            self._decode()
            self._retire()  # finished rows leave now, not at the next request
        self.stats.steps += 1

    def _admit(self) -> list[_Seq]:
        room = self.max_batch - len(self._active)
        picked: list[_Seq] = []
        prompts: set[tuple[int, ...]] = set()
        tokens = 0
        with self._cv:
            while self._waiting and len(picked) < room:
                seq = self._waiting[0]
                if seq.cancelled:
                    self._waiting.popleft()
                    self.stats.cancelled_sequences += 1
                    continue
                prompt = tuple(seq.request.prompt_ids)
                size = 0 if prompt in prompts else len(prompt)  # a repeat shares its prefill
                if picked and tokens + size > self.max_prefill_tokens:
                    break
                picked.append(self._waiting.popleft())
                prompts.add(prompt)
                tokens += size
        return picked

    def _retire(self) -> None:
        """Drop finished and cancelled rows from the batch and trim the shared padding."""
        keep = [i for i, s in enumerate(self._active) if not (s.finished or s.cancelled)]
        for s in self._active:
            if s.cancelled and not s.finished:
                self.stats.cancelled_sequences += 1
        if len(keep) == len(self._active):
            return
        import torch

        self._active = [self._active[i] for i in keep]
        if not self._active:
            self._cache, self._width = None, 0
            return
        self._cache.batch_select_indices(torch.tensor(keep, device=self.device))
        trim = self._width - max(s.length for s in self._active)
        if trim > 0:
            for layer in self._cache.layers:
                layer.keys = layer.keys[..., trim:, :]
                layer.values = layer.values[..., trim:, :]
            self._width -= trim

    def _prefill(self, seqs: list[_Seq]) -> None:
        import torch

        from codekiln_serve.kv_cache import growing_cache

        device = self.device
        unique: dict[tuple[int, ...], int] = {}  # n samples of a prompt: one prefill, copied
        rows = [unique.setdefault(tuple(s.request.prompt_ids), len(unique)) for s in seqs]
        width = max(len(p) for p in unique)
        ids = torch.zeros((len(unique), width), dtype=torch.long, device=device)
        mask = torch.zeros((len(unique), width), dtype=torch.long, device=device)
        for i, prompt in enumerate(unique):
            ids[i, width - len(prompt):] = torch.tensor(prompt, device=device)
            mask[i, width - len(prompt):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        want_prompt = any(s.request.prompt_logprobs for s in seqs)
        cache = growing_cache()  # plain full-attention layers (the engine checked the model)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         past_key_values=cache, use_cache=True,
                         logits_to_keep=0 if want_prompt else 1)
        logits = out.logits.float()
        self.stats.prefilled_tokens += sum(len(p) for p in unique)
        if len(unique) < len(seqs):
            index = torch.tensor(rows, device=device)
            ids, logits = ids.index_select(0, index), logits.index_select(0, index)
            for layer in out.past_key_values.layers:
                layer.keys = layer.keys.index_select(0, index)
                layer.values = layer.values.index_select(0, index)
        for s in seqs:
            s.row = new_row(s.request, device)
            s.length = len(s.request.prompt_ids)
            self.stats.prompt_tokens += s.length
        prompt_lps = self._prompt_logprobs(seqs, ids, logits) if want_prompt else {}
        choices = choose([s.row for s in seqs if s.row is not None], logits[:, -1, :])
        self._merge(seqs, out.past_key_values, width)
        for s, c in zip(seqs, choices, strict=True):
            self._deliver(s, c, prompt_lps.get(id(s)))

    def _prompt_logprobs(self, seqs: list[_Seq], ids: torch.Tensor, logits: torch.Tensor,
                         ) -> dict[int, tuple[float | None, ...]]:
        import torch

        found: dict[int, tuple[float | None, ...]] = {}
        width = ids.shape[1]
        for i, s in enumerate(seqs):
            if not s.request.prompt_logprobs:
                continue
            n = len(s.request.prompt_ids)
            start = width - n
            lps = torch.log_softmax(logits[i, start:width - 1], dim=-1)
            picked = lps.gather(-1, ids[i, start + 1:].unsqueeze(-1)).squeeze(-1).tolist()
            found[id(s)] = (None, *picked)
        return found

    def _merge(self, seqs: list[_Seq], cache: Any, width: int) -> None:
        import torch

        if self._cache is None:
            self._cache, self._width, self._active = cache, width, list(seqs)
            return
        total = max(self._width, width)
        for old, new in zip(self._cache.layers, cache.layers, strict=True):
            for name in ("keys", "values"):
                a, b = getattr(old, name), getattr(new, name)
                a = _left_pad(a, total - self._width)
                b = _left_pad(b, total - width)
                setattr(old, name, torch.cat([a, b], dim=0))
        self._width = total
        self._active.extend(seqs)

    def _decode(self) -> None:
        import torch

        device = self.device
        seqs = self._active
        width = self._width + 1
        ids = torch.tensor([[s.pending] for s in seqs], device=device)
        lengths = torch.tensor([s.length for s in seqs], device=device)
        cols = torch.arange(width, device=device).unsqueeze(0)
        mask = (cols >= (width - 1 - lengths).unsqueeze(1)).long()
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=lengths.unsqueeze(1),
                         past_key_values=self._cache, use_cache=True)
        self._cache = out.past_key_values
        self._width = width
        for s in seqs:
            s.length += 1
        self.stats.max_batch_seen = max(self.stats.max_batch_seen, len(seqs))
        rows = [s.row for s in seqs if s.row is not None]
        for s, c in zip(seqs, choose(rows, out.logits[:, -1, :].float()), strict=True):
            self._deliver(s, c, None)

    def _deliver(self, seq: _Seq, choice: Choice, prompt_lps: tuple[float | None, ...] | None,
                 ) -> None:
        """Emit a sampled token (or only the end, for max_tokens=0) and decide if it ends."""
        if seq.cancelled:
            return
        r = seq.request
        if r.max_tokens == 0:
            seq.finished = True
            seq.emit(TokenEvent(None, finish_reason="length", prompt_logprobs=prompt_lps))
            self.stats.finished_sequences += 1
            return
        seq.generated += 1
        seq.pending = choice.token_id
        self.stats.generated_tokens += 1
        finish = None
        if choice.token_id in r.stop_token_ids and not r.ignore_eos:
            finish = "stop"
        elif seq.generated >= r.max_tokens or seq.length + 1 >= self.context_length:
            finish = "length"
        if finish is not None:
            seq.finished = True
            self.stats.finished_sequences += 1
        seq.emit(TokenEvent(choice.token_id, choice.logprob, choice.top, finish, prompt_lps))


def _left_pad(t: torch.Tensor, amount: int) -> torch.Tensor:
    if amount <= 0:
        return t
    import torch

    pad = torch.zeros((*t.shape[:-2], amount, t.shape[-1]), dtype=t.dtype, device=t.device)
    return torch.cat([pad, t], dim=-2)
