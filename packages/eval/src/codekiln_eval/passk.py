"""The unbiased pass@k estimator of Chen et al. (2021), "Evaluating LLMs Trained on Code".

pass@k = 1 - C(n-c, k) / C(n, k) for n samples of which c passed. The binomials overflow
floats for large n, so the ratio is computed as the product prod_{i=n-c+1..n} (1 - k/i),
which is exactly equal and stays in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) passes."""
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n, got n={n} c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 1 <= k <= n, got n={n} k={k}")
    if n - c < k:
        return 1.0
    ratio = 1.0
    for i in range(n - c + 1, n + 1):
        ratio *= 1.0 - k / i
    return 1.0 - ratio


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float | None:
    """Average pass@k over tasks given (n, c) per task; None when some task has n < k."""
    values = []
    for n, c in counts:
        if n < k:
            return None
        values.append(pass_at_k(n, c, k))
    return sum(values) / len(values) if values else None


def summarize(counts: Sequence[tuple[int, int]], ks: Sequence[int]) -> dict[str, float | None]:
    """{"pass@k": value} for each k."""
    return {f"pass@{k}": mean_pass_at_k(counts, k) for k in ks}
