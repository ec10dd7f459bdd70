"""Existing reward functions register unchanged: verl reward files and TRL reward functions.

- verl: ``compute_score(data_source, solution_str, ground_truth, extra_info) -> float |
  dict`` (a dict's ``score`` is the reward), called per sample.
- TRL: ``f(prompts, completions, **columns) -> list[float | None]``, called per batch with
  every dataset column as a list.

Calls run on a thread pool with a deadline: a reward file that hangs (a blocking request, an
endless loop in Python) yields ``None`` for its samples when the deadline passes, and the
batch goes on; the stuck thread is abandoned, not waited for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_posttrain.rewards.base import RewardFn, Sample

VERL_PARAMS = ("data_source", "solution_str", "ground_truth", "extra_info")
TRL_PARAMS = ("prompts", "completions")


def _params(fn: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def is_verl_style(fn: Any) -> bool:
    return callable(fn) and _params(fn)[:4] == list(VERL_PARAMS)


def is_trl_style(fn: Any) -> bool:
    return callable(fn) and _params(fn)[:2] == list(TRL_PARAMS)


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, bool | int | float):
        return float(value)
    raise ConfigError(f"reward {name!r} returned {type(value).__name__}; return a number "
                      "(or a dict with 'score')")


class _Deadline:
    def __init__(self, timeout_s: float, workers: int) -> None:
        self.timeout_s = timeout_s
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reward")

    def gather(self, calls: list[Callable[[], Any]]) -> list[Any]:
        futures = [self.pool.submit(call) for call in calls]
        out = []
        for future in futures:
            try:
                out.append(future.result(timeout=self.timeout_s))
            except FutureTimeout:
                future.cancel()
                out.append(None)
        return out


class VerlReward:
    """A verl ``compute_score`` function as a batch reward."""

    def __init__(self, fn: Callable[..., Any], *, name: str = "verl", timeout_s: float = 60.0,
                 workers: int = 8) -> None:
        self.fn, self.name = fn, name
        self._deadline = _Deadline(timeout_s, workers)

    def score(self, samples: Sequence[Sample]) -> list[float | None]:
        def call(sample: Sample) -> Callable[[], Any]:
            c = sample.columns
            return lambda: self.fn(c.get("data_source", ""), sample.completion,
                                   c.get("ground_truth"), c.get("extra_info"))

        return [_number(v, self.name) for v in self._deadline.gather([call(s) for s in samples])]


class TrlReward:
    """A TRL reward function as a batch reward (one call per batch)."""

    def __init__(self, fn: Callable[..., Any], *, name: str = "trl",
                 timeout_s: float = 600.0) -> None:
        self.fn, self.name = fn, name
        self._deadline = _Deadline(timeout_s, 1)

    def score(self, samples: Sequence[Sample]) -> list[float | None]:
        keys = sorted({k for s in samples for k in s.columns} - {"prompts", "completions"})
        columns = {k: [s.columns.get(k) for s in samples] for k in keys}
        prompts = [s.prompt for s in samples]
        completions = [s.completion for s in samples]
        (values,) = self._deadline.gather(
            [lambda: self.fn(prompts=prompts, completions=completions, **columns)])
        if values is None:
            return [None] * len(samples)
        if len(values) != len(samples):
            raise ConfigError(f"reward {self.name!r} returned {len(values)} values for "
                              f"{len(samples)} completions")
        return [_number(v, self.name) for v in values]


def as_reward(obj: Any, *, name: str, options: dict[str, Any] | None = None) -> RewardFn:
    """Turn what a plugin registered into a batch reward.

    A class is instantiated with ``options``; an object with ``score`` is used as is; a
    function is adapted by its parameter names (verl or TRL form).
    """
    options = dict(options or {})
    if inspect.isclass(obj):
        try:
            obj = obj(**options)
        except TypeError as exc:
            raise ConfigError(f"reward {name!r}: bad options {options} ({exc})") from exc
        options = {}
    if isinstance(obj, RewardFn) and not inspect.isfunction(obj):
        return obj
    if is_verl_style(obj):
        return VerlReward(obj, name=name, **options)
    if is_trl_style(obj):
        return TrlReward(obj, name=name, **options)
    raise ConfigError(
        f"reward {name!r} is neither a verl compute_score({', '.join(VERL_PARAMS)}) nor a "
        f"TRL f({', '.join(TRL_PARAMS)}, **columns) nor an object with score(samples)")


def load_reward(name: str, options: dict[str, Any] | None = None,
                registry: Any = None) -> RewardFn:
    """The reward registered as ``name`` (through ``codekiln_register_rewards``)."""
    if registry is None:
        from codekiln_core.plugins import get_plugin_manager
        from codekiln_core.registry import Registry

        registry = Registry(get_plugin_manager(warn=False))
    registration = registry.get("reward", name)
    return as_reward(registration.obj, name=name, options=options)
