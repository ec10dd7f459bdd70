"""The mixture sampler: bijective epochs, weights, determinism, resume, rank slices."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codekiln_core.errors import ConfigError
from codekiln_train.data.sampler import FeistelPermutation, MixtureSampler


@given(st.integers(1, 3000), st.integers(0, 2**64 - 1))
@settings(max_examples=40, deadline=None)
def test_feistel_is_a_permutation(n: int, key: int) -> None:
    perm = FeistelPermutation(n, key)
    assert sorted(perm(i) for i in range(n)) == list(range(n))


def test_feistel_shuffles_and_depends_on_the_key() -> None:
    first = [FeistelPermutation(1000, 1)(i) for i in range(1000)]
    second = [FeistelPermutation(1000, 2)(i) for i in range(1000)]
    assert first != list(range(1000)) and first != second
    # not a near-identity: most neighbours land far apart
    assert sum(abs(a - b) > 10 for a, b in pairwise(first)) > 900


def stream(sampler: MixtureSampler, batches: int) -> list[tuple[int, int]]:
    return [s for _ in range(batches) for s in sampler.next_micro_batch()]


def test_every_epoch_visits_each_sequence_once() -> None:
    sampler = MixtureSampler([37], [1.0], seed=3, micro_batch_size=1)
    first, second = stream(sampler, 37), stream(sampler, 37)
    assert sorted(i for _, i in first) == list(range(37))
    assert sorted(i for _, i in second) == list(range(37))
    assert first != second  # each epoch has its own order


def test_weights_set_the_share_of_samples() -> None:
    sampler = MixtureSampler([500, 300, 200, 50], [0.5, 0.3, 0.2, 0.0], seed=0,
                             micro_batch_size=8)
    counts = Counter(source for source, _ in stream(sampler, 1250))  # 10,000 samples
    assert counts[3] == 0
    for source, weight in enumerate([0.5, 0.3, 0.2]):
        # 4 standard deviations of a binomial share at n = 10,000
        assert abs(counts[source] / 10_000 - weight) < 4 * (weight * (1 - weight) / 1e4) ** .5


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    def make(seed: int) -> MixtureSampler:
        return MixtureSampler([100, 40], [2.0, 1.0], seed=seed, micro_batch_size=4)

    assert stream(make(7), 20) == stream(make(7), 20)
    assert stream(make(7), 20) != stream(make(8), 20)


def test_resume_from_state_continues_the_stream() -> None:
    whole = MixtureSampler([100, 40], [2.0, 1.0], seed=1, micro_batch_size=4)
    expected = stream(whole, 30)
    first = MixtureSampler([100, 40], [2.0, 1.0], seed=1, micro_batch_size=4)
    head = stream(first, 12)
    state = json.loads(json.dumps(first.state_dict()))  # what a checkpoint stores
    second = MixtureSampler([100, 40], [2.0, 1.0], seed=1, micro_batch_size=4)
    second.load_state_dict(state)
    assert head + stream(second, 18) == expected


def test_ranks_split_the_global_stream_like_accumulation() -> None:
    """1 process x 2 accumulation steps == 2 processes x 1 step, micro-batch by micro-batch."""
    single = MixtureSampler([100, 40], [1.0, 1.0], seed=5, micro_batch_size=3)
    ranks = [MixtureSampler([100, 40], [1.0, 1.0], seed=5, micro_batch_size=3, rank=r,
                            world_size=2) for r in range(2)]
    for _step in range(10):
        accumulated = single.next_micro_batch() + single.next_micro_batch()
        parallel = ranks[0].next_micro_batch() + ranks[1].next_micro_batch()
        assert accumulated == parallel
    assert ranks[0].state_dict() == ranks[1].state_dict() == single.state_dict()


def test_resume_at_another_world_size_when_aligned() -> None:
    one = MixtureSampler([60], [1.0], seed=2, micro_batch_size=2)
    stream(one, 4)  # 8 samples: a multiple of 2 ranks x 2
    state = one.state_dict()
    expected = stream(one, 2)
    pair = [MixtureSampler([60], [1.0], seed=2, micro_batch_size=2, rank=r, world_size=2)
            for r in range(2)]
    for sampler in pair:
        sampler.load_state_dict(state)
    assert pair[0].next_micro_batch() + pair[1].next_micro_batch() == expected
    with pytest.raises(ConfigError, match="not a multiple"):  # 8 % (2 x 3) != 0
        MixtureSampler([60], [1.0], seed=2, micro_batch_size=3, world_size=2,
                       rank=1).load_state_dict(state)


@pytest.mark.parametrize(("change", "message"), [
    ({"seed": 9}, "seed"), ({"sizes": [61]}, "sizes"), ({"weights": [2.0]}, "weights"),
    ({"kind": "other"}, "is not a"),
])
def test_foreign_state_is_refused(change: dict[str, object], message: str) -> None:
    sampler = MixtureSampler([60], [1.0], seed=2, micro_batch_size=2)
    with pytest.raises(ConfigError, match=message):
        sampler.load_state_dict({**sampler.state_dict(), **change})


@pytest.mark.parametrize(("sizes", "weights", "kwargs"), [
    ([10], [0.0], {}), ([10, 5], [1.0], {}), ([0], [1.0], {}), ([10], [-1.0], {}),
    ([10], [1.0], {"rank": 2, "world_size": 2}), ([10], [1.0], {"micro_batch_size": 0}),
])
def test_bad_sampler_arguments(sizes: list[int], weights: list[float],
                               kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        MixtureSampler(sizes, weights, seed=0, **{"micro_batch_size": 2, **kwargs})
