"""Which sequence comes next: a weighted, seeded, resumable, rank-aware mixture sampler.

The sampler defines one global stream of samples, a pure function of the seed and the
shard-set sizes and weights. Sample ``g`` draws its shard set from a hash of ``(seed, g)``
by weight; within a set, epoch ``e`` visits every sequence once in the order of a seeded
Feistel permutation (O(1) memory at any size; no index array of billions of entries).

Data parallel: micro-batch ``j`` of the stream (samples ``j*B .. j*B+B-1``) goes to rank
``j % world``. A rank walks the whole stream (cheap: a few hashes per sample) and keeps its
slice, so after each call every rank stands at the same global position. That makes the
global batch at each step the same for 1 process with accumulation as for N processes,
and one rank's ``state_dict`` resumes them all (even at another world size, when the
position is a multiple of the new ``world * B``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from codekiln_core.errors import ConfigError

MASK64 = (1 << 64) - 1
STATE_KIND = "codekiln.mixture-sampler"
STATE_VERSION = 1


def splitmix64(value: int) -> int:
    """A fast, well-mixed 64-bit hash (Steele et al.'s SplitMix64 finaliser)."""
    z = (value + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def mix(*parts: int) -> int:
    """Hash several integers into one 64-bit key."""
    key = 0
    for part in parts:
        key = splitmix64(key ^ (part & MASK64))
    return key


class FeistelPermutation:
    """A seeded bijection of ``range(n)``: a 4-round Feistel network with cycle walking."""

    ROUNDS = 4

    def __init__(self, n: int, key: int) -> None:
        if n < 1:
            raise ValueError("a permutation needs n >= 1")
        self.n = n
        self.half_bits = max(1, ((n - 1).bit_length() + 1) // 2)
        self.half_mask = (1 << self.half_bits) - 1
        self.keys = [mix(key, r) for r in range(self.ROUNDS)]

    def _encrypt(self, value: int) -> int:
        left, right = value >> self.half_bits, value & self.half_mask
        for round_key in self.keys:
            left, right = right, left ^ (splitmix64(round_key ^ right) & self.half_mask)
        return (left << self.half_bits) | right

    def __call__(self, index: int) -> int:
        value = self._encrypt(index)
        while value >= self.n:  # cycle walking: stays a bijection of range(n)
            value = self._encrypt(value)
        return value


class MixtureSampler:
    """(shard set, sequence index) pairs for this rank's micro-batches, in order."""

    def __init__(self, sizes: Sequence[int], weights: Sequence[float], *, seed: int,
                 micro_batch_size: int, rank: int = 0, world_size: int = 1) -> None:
        if len(sizes) != len(weights) or not sizes:
            raise ConfigError("sampler: give one weight per shard set (at least one set)")
        if micro_batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"sampler: micro_batch_size={micro_batch_size}, rank={rank}, "
                              f"world_size={world_size}: need mbs >= 1 and 0 <= rank < world")
        if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
            raise ConfigError(f"sampler: weights {list(weights)} must be >= 0, one > 0")
        if any(s < 1 for s, w in zip(sizes, weights, strict=True) if w > 0):
            raise ConfigError(f"sampler: a weighted shard set is empty (sizes {list(sizes)})")
        self.sizes = [int(s) for s in sizes]
        self.weights = [float(w) for w in weights]
        self.seed = int(seed)
        self.micro_batch_size = micro_batch_size
        self.rank, self.world_size = rank, world_size
        total = sum(self.weights)
        running, self._cumulative = 0.0, []
        for weight in self.weights:
            running += weight / total
            self._cumulative.append(running)
        self._cumulative[-1] = 1.0
        self.position = 0  # global samples drawn so far (all ranks)
        self.counts = [0] * len(sizes)  # samples drawn per shard set (all ranks)
        self._perms: dict[tuple[int, int], FeistelPermutation] = {}

    def _source(self, sample: int) -> int:
        draw = mix(self.seed, 0x50_55_52_43, sample) / 2.0**64  # uniform in [0, 1)
        return min(bisect.bisect_right(self._cumulative, draw), len(self.sizes) - 1)

    def _index(self, source: int, count: int) -> int:
        epoch, offset = divmod(count, self.sizes[source])
        key = (source, epoch)
        if key not in self._perms:
            if len(self._perms) > 64:
                self._perms.clear()
            self._perms[key] = FeistelPermutation(self.sizes[source],
                                                  mix(self.seed, source, epoch))
        return self._perms[key](offset)

    def draw(self) -> tuple[int, int]:
        """The next sample of the global stream: (shard set, sequence index)."""
        source = self._source(self.position)
        index = self._index(source, self.counts[source])
        self.counts[source] += 1
        self.position += 1
        return source, index

    def next_micro_batch(self) -> list[tuple[int, int]]:
        """This rank's next ``micro_batch_size`` samples; advances past the other ranks'."""
        mine: list[tuple[int, int]] = []
        for slot in range(self.world_size * self.micro_batch_size):
            sample = self.draw()
            if slot // self.micro_batch_size == self.rank:
                mine.append(sample)
        return mine

    def epochs(self) -> list[float]:
        """Passes made over each shard set so far (for logs)."""
        return [c / s if s else 0.0 for c, s in zip(self.counts, self.sizes, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        return {"kind": STATE_KIND, "version": STATE_VERSION, "seed": self.seed,
                "sizes": list(self.sizes), "weights": list(self.weights),
                "position": self.position, "counts": list(self.counts)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != STATE_KIND or state.get("version") != STATE_VERSION:
            raise ConfigError(f"sampler state {state.get('kind')!r} v{state.get('version')!r}"
                              f" is not a {STATE_KIND} v{STATE_VERSION} state")
        mine = {"seed": self.seed, "sizes": self.sizes, "weights": self.weights}
        for key, value in mine.items():
            if state[key] != value:
                raise ConfigError(f"checkpoint's sampler has {key} {state[key]!r}, this run "
                                  f"{value!r}: resume with the same shards, weights and seed")
        stride = self.world_size * self.micro_batch_size
        if state["position"] % stride:
            raise ConfigError(f"checkpoint's sampler stands at sample {state['position']}, not "
                              f"a multiple of world_size x micro_batch_size = {stride}; resume "
                              "with the micro-batch size it was saved with and a world size "
                              "that divides its global batch")
        self.position = int(state["position"])
        self.counts = [int(c) for c in state["counts"]]
