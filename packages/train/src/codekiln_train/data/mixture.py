"""Batches for training and validation: shard sets + sampler + collation.

``build_batch_source`` checks the manifests first (one-line errors, no heavy work), then
opens each shard set as a memory map; a batch costs one copy of its tokens plus the mask.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from codekiln_core.errors import ConfigError
from codekiln_core.shards import PackedShards
from codekiln_train.data.collate import PackedRow, collate
from codekiln_train.data.sampler import MixtureSampler
from codekiln_train.data.shardset import ShardInfo, ShardSetLike, check_shard_sets

if TYPE_CHECKING:
    import torch

SOURCE_KIND = "codekiln.shard-batch-source"


@runtime_checkable
class BatchSource(Protocol):
    """What the training loop pulls micro-batches from, and checkpoints."""

    def next_batch(self) -> dict[str, torch.Tensor]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _row(shards: PackedShards, index: int) -> PackedRow:
    return PackedRow(shards.sequence(index), shards.document_starts(index),
                     shards.valid_length(index))


class ShardBatchSource:
    """Micro-batches of packed sequences drawn from a weighted mixture of shard sets."""

    def __init__(self, info: ShardInfo, *, micro_batch_size: int, seed: int, rank: int = 0,
                 world_size: int = 1, cross_document_attention: bool = False,
                 attn_implementation: str = "sdpa") -> None:
        self.info = info
        self.seq_len = info.seq_len
        self.micro_batch_size = micro_batch_size
        self.cross_document_attention = cross_document_attention
        self.attn_implementation = attn_implementation
        self.shards = [PackedShards(s.path) for s in info.sets]
        self.sampler = MixtureSampler([s.sequences for s in info.sets],
                                      [s.weight for s in info.sets], seed=seed,
                                      micro_batch_size=micro_batch_size, rank=rank,
                                      world_size=world_size)
        self.batches = 0  # micro-batches this rank has produced

    @property
    def tokens_per_micro_batch(self) -> int:
        return self.micro_batch_size * self.seq_len

    def next_batch(self) -> dict[str, torch.Tensor]:
        rows = [_row(self.shards[source], index)
                for source, index in self.sampler.next_micro_batch()]
        self.batches += 1
        return collate(rows, cross_document_attention=self.cross_document_attention,
                       attn_implementation=self.attn_implementation)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable: the sampler's global position, per-set counts, and names."""
        return {"kind": SOURCE_KIND, "sets": [s.name for s in self.info.sets],
                "batches": self.batches, "sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        names = [s.name for s in self.info.sets]
        if state.get("kind") != SOURCE_KIND or state.get("sets") != names:
            raise ConfigError(f"checkpoint's data state is for shard sets "
                              f"{state.get('sets')!r}, this stage reads {names!r}; resume "
                              "with the same mixture")
        self.sampler.load_state_dict(state["sampler"])
        # This rank's count had it always run at this world size (a resume may change it).
        self.batches = self.sampler.position // (self.sampler.world_size * self.micro_batch_size)


def build_batch_source(mixture: Sequence[ShardSetLike], *, micro_batch_size: int, seed: int,
                       rank: int = 0, world_size: int = 1,
                       cross_document_attention: bool = False,
                       attn_implementation: str = "sdpa",
                       expect_seq_len: int | None = None) -> ShardBatchSource:
    """Check the mixture's manifests, then open it as a resumable batch source."""
    info = check_shard_sets(mixture, expect_seq_len=expect_seq_len)
    return ShardBatchSource(info, micro_batch_size=micro_batch_size, seed=seed, rank=rank,
                            world_size=world_size,
                            cross_document_attention=cross_document_attention,
                            attn_implementation=attn_implementation)


def validation_batches(shards: Path, *, micro_batch_size: int, max_batches: int | None = None,
                       rank: int = 0, world_size: int = 1,
                       cross_document_attention: bool = False,
                       attn_implementation: str = "sdpa") -> Iterator[dict[str, torch.Tensor]]:
    """The held-out set in file order, the same batches on every call (the last may be
    smaller). ``max_batches`` caps the batches over all ranks; rank ``r`` of ``world_size``
    takes batches ``r, r + world_size, ...``, so the ranks together score the same set
    whatever the world size."""
    reader = PackedShards(shards)
    total = len(reader)
    count = -(-total // micro_batch_size)
    if max_batches is not None:
        count = min(count, max_batches)
    for batch in range(rank, count, world_size):
        indices = range(batch * micro_batch_size, min(total, (batch + 1) * micro_batch_size))
        yield collate([_row(reader, i) for i in indices],
                      cross_document_attention=cross_document_attention,
                      attn_implementation=attn_implementation)
