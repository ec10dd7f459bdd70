"""Pack documents end to end into fixed-size shard buffers, keeping where each one starts.

Documents are concatenated (each already ends with EOS) and cut into sequences of
``seq_len`` tokens; a document may continue into the next sequence or shard. The start of
every document is kept in the shard's index, so a trainer can mask attention or reset
position ids at document boundaries, and a reader can give the documents back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from codekiln_curate.tokens.encode import TokenArray


@dataclass
class Cursor:
    """Where the stream stands: documents fully packed, and tokens of the next one packed."""

    doc: int = 0
    offset: int = 0


@dataclass
class ShardBuffer:
    """One shard being filled: its tokens, document starts, per-source tallies."""

    index: int
    tokens: TokenArray
    fill: int = 0
    starts: list[int] = field(default_factory=list)
    source_tokens: dict[str, int] = field(default_factory=dict)
    source_docs: dict[str, int] = field(default_factory=dict)
    fim_docs: int = 0

    def starts_array(self) -> npt.NDArray[np.uint64]:
        return np.asarray(self.starts, dtype=np.uint64)


Flush = Callable[[ShardBuffer, Cursor], None]


class Packer:
    """Fill shard buffers of ``shard_tokens`` tokens and hand each full one to ``flush``."""

    def __init__(self, shard_tokens: int, flush: Flush, *, first_shard: int = 0,
                 cursor: Cursor | None = None) -> None:
        self.shard_tokens = shard_tokens
        self.flush = flush
        self.cursor = cursor or Cursor()
        self.buffer = self._new_buffer(first_shard)

    def _new_buffer(self, index: int) -> ShardBuffer:
        return ShardBuffer(index, np.empty(self.shard_tokens, dtype=np.uint32))

    def add(self, tokens: TokenArray, lengths: list[int], fim_flags: list[bool], source: str,
            first_doc: int) -> None:
        """Append documents ``first_doc, first_doc+1, ...``; the first may resume mid-way."""
        bounds = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
        for i in range(len(lengths)):
            doc = first_doc + i
            skip = self.cursor.offset if doc == self.cursor.doc else 0
            if not skip:
                self.buffer.starts.append(self.buffer.fill)
                self.buffer.source_docs[source] = self.buffer.source_docs.get(source, 0) + 1
                self.buffer.fim_docs += fim_flags[i]
            start, end = int(bounds[i]) + skip, int(bounds[i + 1])
            self._copy(tokens[start:end], source, doc, skip)

    def _copy(self, piece: TokenArray, source: str, doc: int, skip: int) -> None:
        taken = 0
        while taken < len(piece):
            room = self.shard_tokens - self.buffer.fill
            chunk = piece[taken:taken + room]
            self.buffer.tokens[self.buffer.fill:self.buffer.fill + len(chunk)] = chunk
            self.buffer.fill += len(chunk)
            taken += len(chunk)
            tallies = self.buffer.source_tokens
            tallies[source] = tallies.get(source, 0) + len(chunk)
            done = taken == len(piece)
            self.cursor = Cursor(doc + 1, 0) if done else Cursor(doc, skip + taken)
            if self.buffer.fill == self.shard_tokens:
                self.flush(self.buffer, self.cursor)
                self.buffer = self._new_buffer(self.buffer.index + 1)

    def finish(self) -> None:
        """Flush the last, partly filled shard (if it holds anything)."""
        if self.buffer.fill:
            self.flush(self.buffer, self.cursor)
