"""Shard-set checks (one-line errors before heavy work) and the resumable batch source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.data import BatchSource, build_batch_source, check_shard_sets
from codekiln_train.recipe import ShardSetRef

if TYPE_CHECKING:
    from conftest import TinyShards


def refs(shards: TinyShards, code: float = 3.0, extra: float = 1.0) -> list[ShardSetRef]:
    return [ShardSetRef(path=shards.code, weight=code, name="code"),
            ShardSetRef(path=shards.extra, weight=extra)]


def test_shard_info_comes_from_the_manifests(tiny_shards: TinyShards) -> None:
    info = check_shard_sets(refs(tiny_shards), expect_seq_len=128)
    assert (info.vocab_size, info.bos_token_id, info.eos_token_id, info.pad_token_id) == (
        1024, 0, 2, 1)
    assert info.seq_len == 128 and info.tokenizer_dir == tiny_shards.tokenizer.resolve()
    assert [s.name for s in info.sets] == ["code", "shards-extra"]
    assert info.sequences == sum(json.loads((p / "manifest.json").read_text())["total_sequences"]
                                 for p in (tiny_shards.code, tiny_shards.extra))
    assert all(len(d) == 64 for d in info.digests.values())


def edited_copy(source: Path, dest: Path, **changes: Any) -> Path:
    shutil.copytree(source, dest)
    manifest = json.loads((dest / "manifest.json").read_text())
    for dotted, value in changes.items():
        node = manifest
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return dest


@pytest.mark.parametrize(("changes", "message"), [
    ({"tokenizer__sha256": "f" * 64}, "tokenizer.sha256 = 'ffff"),
    ({"seq_len": 256}, "seq_len = 256 but"),
    ({"vocab_size": 2048}, "vocab_size = 2048 but"),
    ({"special_ids__eos": 5}, "special_ids.eos = 5 but"),
    ({"dtype": "uint16"}, "dtype 'uint16'"),
    ({"vocab_size": None}, "no key 'vocab_size' .*rerun `codekiln curate shards`"),
])
def test_mismatched_sets_fail_in_one_line(tiny_shards: TinyShards, tmp_path: Path,
                                          changes: dict[str, Any], message: str) -> None:
    other = edited_copy(tiny_shards.extra, tmp_path / "other", **changes)
    with pytest.raises(ConfigError, match=message) as info:
        check_shard_sets([ShardSetRef(path=tiny_shards.code), ShardSetRef(path=other)])
    text = str(info.value)
    assert "\n" not in text and str(other) in text


def test_recipe_seq_len_and_bad_mixtures(tiny_shards: TinyShards) -> None:
    with pytest.raises(ConfigError, match="asks for seq_len 8192"):
        check_shard_sets(refs(tiny_shards), expect_seq_len=8192)
    with pytest.raises(ConfigError, match=r"names .* repeat"):
        check_shard_sets([ShardSetRef(path=tiny_shards.code, name="a"),
                          ShardSetRef(path=tiny_shards.extra, name="a")])
    with pytest.raises(ConfigError, match="every mixture weight is 0"):
        check_shard_sets(refs(tiny_shards, 0.0, 0.0))
    with pytest.raises(ConfigError, match="empty"):
        check_shard_sets([])
    with pytest.raises(ConfigError, match=r"has no manifest\.json"):
        check_shard_sets([ShardSetRef(path=tiny_shards.code.parent)])


def batches(source: BatchSource, count: int) -> list[dict[str, Any]]:
    return [source.next_batch() for _ in range(count)]


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(bool((x[k] == y[k]).all()) for k in x)
        for x, y in zip(a, b, strict=True))


def test_batch_source_resumes_exactly(tiny_shards: TinyShards) -> None:
    whole = build_batch_source(refs(tiny_shards), micro_batch_size=2, seed=4)
    assert isinstance(whole, BatchSource)
    expected = batches(whole, 8)
    first = build_batch_source(refs(tiny_shards), micro_batch_size=2, seed=4)
    head = batches(first, 5)
    state = json.loads(json.dumps(first.state_dict()))
    resumed = build_batch_source(refs(tiny_shards), micro_batch_size=2, seed=4)
    resumed.load_state_dict(state)
    assert same(head + batches(resumed, 3), expected)
    other_seed = build_batch_source(refs(tiny_shards), micro_batch_size=2, seed=5)
    assert not same(batches(other_seed, 8), expected)
    with pytest.raises(ConfigError, match="same mixture"):
        build_batch_source(refs(tiny_shards)[:1], micro_batch_size=2,
                           seed=4).load_state_dict(state)


def test_two_ranks_see_the_accumulated_global_batch(tiny_shards: TinyShards) -> None:
    import torch

    single = build_batch_source(refs(tiny_shards), micro_batch_size=2, seed=1)
    ranks = [build_batch_source(refs(tiny_shards), micro_batch_size=2, seed=1, rank=r,
                                world_size=2) for r in range(2)]
    for _step in range(4):
        accumulated = torch.cat([single.next_batch()["input_ids"] for _ in range(2)])
        parallel = torch.cat([r.next_batch()["input_ids"] for r in ranks])
        assert torch.equal(accumulated, parallel)
    assert ranks[0].state_dict()["sampler"] == single.state_dict()["sampler"]


def test_mixture_weights_shape_what_is_drawn(tiny_shards: TinyShards) -> None:
    source = build_batch_source(refs(tiny_shards, 3.0, 1.0), micro_batch_size=8, seed=0)
    batches(source, 50)
    code, extra = source.sampler.counts
    assert 0.68 < code / (code + extra) < 0.82  # weight 3:1 -> 75% +- 4 sigma
