"""Training data from codekiln shard sets: checks, weighted mixture, resumable sampler,
document-aware packing. torch and numpy are imported inside the functions."""

from codekiln_train.data.collate import IGNORE_INDEX, PackedRow, block_causal_mask, collate
from codekiln_train.data.mixture import (
    BatchSource,
    ShardBatchSource,
    build_batch_source,
    validation_batches,
)
from codekiln_train.data.sampler import FeistelPermutation, MixtureSampler
from codekiln_train.data.shardset import ShardInfo, ShardSetInfo, check_shard_sets

__all__ = ["IGNORE_INDEX", "BatchSource", "FeistelPermutation", "MixtureSampler",
           "PackedRow", "ShardBatchSource", "ShardInfo", "ShardSetInfo", "block_causal_mask",
           "build_batch_source", "check_shard_sets", "collate", "validation_batches"]
