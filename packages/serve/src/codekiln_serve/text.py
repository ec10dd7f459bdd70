"""Token ids to client text: incremental detokenization and stop strings.

Decoding works on a short window of ids (the previous token or two and the new one), so each
step costs O(1) rather than re-decoding the whole completion; a window that ends inside a
multi-byte character waits for the next token. Text that could be the start of a stop
string is held back until it is known not to be one, so a stream never shows a stop string.
"""

from __future__ import annotations

from typing import Any


class TextAssembler:
    """Accumulates one choice's text; ``stopped`` turns True when a stop string appears."""

    def __init__(self, tokenizer: Any, stops: list[str]) -> None:
        self._tok = tokenizer
        self._stops = [s for s in stops if s]
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0
        self.text = ""  # everything decoded so far, cut at a stop string once found
        self._emitted = 0
        self.stopped = False
        self.stop_string: str | None = None  # the stop string that ended the text

    def _decode(self, ids: list[int]) -> str:
        return str(self._tok.decode(ids, skip_special_tokens=True))

    def add(self, token_id: int) -> str:
        """Add a token; return the text now safe to show (may be empty)."""
        if self.stopped:
            return ""
        self._ids.append(token_id)
        before = self._decode(self._ids[self._prefix_offset:self._read_offset])
        after = self._decode(self._ids[self._prefix_offset:])
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.text += after[len(before):]
            self._prefix_offset, self._read_offset = self._read_offset, len(self._ids)
        return self._release()

    def finish(self) -> str:
        """The held-back tail, once the sequence has ended."""
        if not self.stopped:
            tail = self._decode(self._ids[self._prefix_offset:])
            before = self._decode(self._ids[self._prefix_offset:self._read_offset])
            if len(tail) > len(before):
                self.text += tail[len(before):]
                self._prefix_offset = self._read_offset = len(self._ids)
            self._cut_at_stop()
        delta = self.text[self._emitted:]
        self._emitted = len(self.text)
        return delta

    def _cut_at_stop(self) -> None:
        if not self._stops:
            return
        # a stop string can only end inside the text not yet released
        start = max(0, self._emitted - max(len(s) for s in self._stops))
        hits = [(i, s) for i, s in ((self.text.find(s, start), s) for s in self._stops)
                if i >= 0]
        if hits:
            at, self.stop_string = min(hits)
            self.text = self.text[:at]
            self.stopped = True

    def _release(self) -> str:
        self._cut_at_stop()
        end = len(self.text) if self.stopped else len(self.text) - self._held_back()
        if end <= self._emitted:
            return ""
        delta = self.text[self._emitted:end]
        self._emitted = end
        return delta

    def _held_back(self) -> int:
        """Length of the longest tail of the text that begins some stop string."""
        longest = 0
        for stop in self._stops:
            for k in range(min(len(stop) - 1, len(self.text)), longest, -1):
                if self.text.endswith(stop[:k]):
                    longest = k
                    break
        return longest


def token_text(tokenizer: Any, token_id: int) -> str:
    """How one token reads on its own (logprobs show tokens this way, as vLLM does)."""
    return str(tokenizer.decode([token_id], skip_special_tokens=False))
