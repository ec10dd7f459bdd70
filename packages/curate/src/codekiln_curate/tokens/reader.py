"""Read packed shards back: fixed-length sequences by index, or the original documents."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from codekiln_core.errors import ConfigError
from codekiln_curate.tokens.encode import TokenArray
from codekiln_curate.tokens.manifest import read_manifest


class PackedShards:
    """Memory-mapped view of a shard directory written by :func:`write_shards`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.manifest: dict[str, Any] = read_manifest(self.directory)
        self.seq_len = int(self.manifest["seq_len"])
        self.per_shard = int(self.manifest["sequences_per_shard"])
        self._shards = self.manifest["shards"]
        self._maps: dict[int, np.memmap[Any, np.dtype[np.uint32]]] = {}

    def __len__(self) -> int:
        return int(self.manifest["total_sequences"])

    def _map(self, shard: int) -> np.memmap[Any, np.dtype[np.uint32]]:
        if shard not in self._maps:
            path = self.directory / self._shards[shard]["bin"]
            if not path.is_file():
                raise ConfigError(f"shard file {path} is missing; rerun `codekiln curate "
                                  "shards` with the same arguments to rewrite it")
            self._maps[shard] = np.memmap(path, dtype=np.uint32, mode="r")
        return self._maps[shard]

    def __getitem__(self, index: int) -> TokenArray:
        """Sequence ``index`` (``seq_len`` tokens; the last may end in padding)."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"sequence {index} out of range 0..{len(self) - 1}")
        shard, row = divmod(index, self.per_shard)
        start = row * self.seq_len
        return np.asarray(self._map(shard)[start:start + self.seq_len])

    def starts(self, shard: int) -> npt.NDArray[np.uint64]:
        """Offsets (within the shard) where documents begin."""
        path = self.directory / self._shards[shard]["idx"]
        return np.fromfile(path, dtype=np.uint64)

    def documents(self) -> Iterator[TokenArray]:
        """Every packed document's tokens (EOS included), joined across shard boundaries."""
        carry: list[TokenArray] = []
        for shard, meta in enumerate(self._shards):
            tokens = self._map(shard)[: int(meta["tokens"])]
            bounds = [int(s) for s in self.starts(shard)] + [len(tokens)]
            if bounds[0] > 0:  # the tail of a document begun in an earlier shard
                carry.append(np.asarray(tokens[: bounds[0]]))
            for begin, end in pairwise(bounds):
                if carry:
                    yield np.concatenate(carry)
                    carry = []
                carry.append(np.asarray(tokens[begin:end]))
        if carry:
            yield np.concatenate(carry)
