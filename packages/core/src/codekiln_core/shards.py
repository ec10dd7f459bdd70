"""The packed-shard format: curate writes it, train reads it, so it lives once, here.

A shard directory holds ``shard-NNNNN.bin`` (uint32 tokens, sequences of ``seq_len`` back to
back), ``shard-NNNNN.idx`` (uint64 offsets within the shard where documents begin) and
``manifest.json``, written last. numpy is imported inside the functions that need it, so
``import codekiln_core`` (and this module) stays cheap for the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.shard_verify import check_sizes

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    TokenArray = npt.NDArray[np.uint32]

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
STATE = "_state"
#: The only token dtype the format has; recorded in the manifest so a reader can check it.
TOKEN_DTYPE = "uint32"


def bin_name(index: int) -> str:
    return f"shard-{index:05d}.bin"


def idx_name(index: int) -> str:
    return f"shard-{index:05d}.idx"


def vocab_rows(tokenizer: Any) -> int:
    """The manifest's ``vocab_size``: embedding rows a model needs for every id of a
    ``tokenizers.Tokenizer``, the largest id + 1 (a token count misses ids after a gap)."""
    return max(tokenizer.get_vocab(with_added_tokens=True).values(), default=-1) + 1


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a finished shard directory; one-line errors for anything else."""
    out = Path(directory)
    path = out / MANIFEST
    if not path.is_file():
        raise ConfigError(f"{out} has no {MANIFEST}; pass the --output directory of a finished "
                          "`codekiln curate shards` (rerun it to resume an interrupted one)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); rerun `codekiln curate shards` "
                          "with the same arguments to rewrite it") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else None
        raise ConfigError(f"{path} has schema_version {found!r}; this codekiln reads "
                          f"{SCHEMA_VERSION}; rebuild the shards")
    return dict(data)


class PackedShards:
    """Memory-mapped view of a shard directory: sequences by index, document boundaries.

    Opening checks every file's size against the manifest (a ``stat`` each); contents are
    :func:`codekiln_core.shard_verify.verify_contents`' job, and each sequence read is checked
    against the manifest's vocabulary, so a set opened without verification still never
    hands a model a token id past its embedding.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.manifest: dict[str, Any] = read_manifest(self.directory)
        dtype = self.manifest.get("dtype", TOKEN_DTYPE)
        if dtype != TOKEN_DTYPE:
            raise ConfigError(f"{self.directory / MANIFEST}: dtype {dtype!r}; this codekiln "
                              f"reads {TOKEN_DTYPE} shards; rebuild them")
        self.seq_len = int(self.manifest["seq_len"])
        self.per_shard = int(self.manifest["sequences_per_shard"])
        self.vocab_size: int | None = (int(self.manifest["vocab_size"])
                                       if "vocab_size" in self.manifest else None)
        self._shards: list[dict[str, Any]] = list(self.manifest["shards"])
        check_sizes(self.directory, self.manifest)
        self._maps: dict[int, Any] = {}
        self._starts: dict[int, Any] = {}

    def __len__(self) -> int:
        return int(self.manifest["total_sequences"])

    def _map(self, shard: int) -> Any:
        if shard not in self._maps:
            import numpy as np

            path = self.directory / self._shards[shard]["bin"]
            self._maps[shard] = np.memmap(path, dtype=np.uint32, mode="r")
        return self._maps[shard]

    def _locate(self, index: int) -> tuple[int, int]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"sequence {index} out of range 0..{len(self) - 1}")
        return divmod(index, self.per_shard)

    def __getitem__(self, index: int) -> TokenArray:
        """Sequence ``index`` (``seq_len`` tokens; the last may end in padding)."""
        return self.sequence(index)

    def sequence(self, index: int) -> TokenArray:
        """Sequence ``index`` as a uint32 array of ``seq_len`` tokens (a copy, not a view)."""
        import numpy as np

        shard, row = self._locate(index)
        start = row * self.seq_len
        tokens = np.array(self._map(shard)[start:start + self.seq_len])
        if self.vocab_size is not None and tokens.size and int(tokens.max()) >= self.vocab_size:
            path = self.directory / self._shards[shard]["bin"]
            raise ConfigError(f"shard file {path} (sequence {index}) holds token id "
                              f"{int(tokens.max())}, but manifest.json's vocab_size is "
                              f"{self.vocab_size}; rebuild the shards with the manifest's "
                              "tokenizer (`codekiln curate shards --tokenizer ...`)")
        return tokens

    def starts(self, shard: int) -> npt.NDArray[np.uint64]:
        """Offsets (within the shard) where documents begin."""
        if shard not in self._starts:
            import numpy as np

            path = self.directory / self._shards[shard]["idx"]
            self._starts[shard] = np.fromfile(path, dtype=np.uint64)
        starts: npt.NDArray[np.uint64] = self._starts[shard]
        return starts

    def document_starts(self, index: int) -> npt.NDArray[np.int64]:
        """Offsets within sequence ``index`` where a document begins (sorted, may be empty:
        a sequence can lie wholly inside one long document)."""
        import numpy as np

        shard, row = self._locate(index)
        begin, end = row * self.seq_len, (row + 1) * self.seq_len
        starts = self.starts(shard)
        lo, hi = np.searchsorted(starts, [begin, end])
        return starts[lo:hi].astype(np.int64) - begin

    def valid_length(self, index: int) -> int:
        """Tokens of sequence ``index`` that are real (the rest is end-of-set padding)."""
        shard, row = self._locate(index)
        real = int(self._shards[shard]["tokens"]) - row * self.seq_len
        return max(0, min(self.seq_len, real))

    def documents(self) -> Iterator[TokenArray]:
        """Every packed document's tokens (EOS included), joined across shard boundaries."""
        import numpy as np

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
