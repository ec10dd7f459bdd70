"""Rewards: code-tests in the real sandbox (hangs included), format, verl/TRL adapters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from codekiln_core.judge import hacks
from codekiln_core.plugins import get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_core.sandbox import LocalSandbox, RunResult, SandboxLimits, Verdict
from codekiln_posttrain.rewards import Sample, score_batch
from codekiln_posttrain.rewards.adapters import as_reward, load_reward
from codekiln_posttrain.rewards.code_tests import CodeTestsReward
from codekiln_posttrain.rewards.format import FormatReward

TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4"]
GOOD = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\n"
HALF = "```python\ndef add(a, b):\n    return 3 if a == 1 else a + b + 1\n```"
HANG = "```python\nimport time\ndef add(a, b):\n    while True:\n        time.sleep(0.01)\n```"
SPIN = "```python\ndef add(a, b):\n    while True:\n        pass\n```"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=2.0)) as sb:
        yield sb


def sample(completion: str, **columns: Any) -> Sample:
    return Sample("write add", completion, {"tests": TESTS, **columns})


@pytest.mark.sandbox
def test_code_tests_binary_and_fraction(sandbox: LocalSandbox) -> None:
    samples = [sample(GOOD), sample(HALF), sample("no code at all")]
    binary = CodeTestsReward("binary", sandbox=sandbox, timeout_s=2.0)
    assert binary.score(samples) == [1.0, 0.0, 0.0]
    fraction = CodeTestsReward("fraction", sandbox=sandbox, timeout_s=2.0)
    assert fraction.score(samples) == [1.0, pytest.approx(1 / 3), 0.0]


@pytest.mark.sandbox
def test_hung_programs_cost_their_timeout_and_never_stall(sandbox: LocalSandbox) -> None:
    reward = CodeTestsReward("binary", sandbox=sandbox, timeout_s=1.0)
    start = time.monotonic()
    batch = score_batch(reward, [sample(HANG), sample(SPIN), sample(GOOD), sample(HANG)])
    elapsed = time.monotonic() - start
    assert batch.scores == [0.0, 0.0, 1.0, 0.0]  # a timeout is the model's failure
    assert batch.unscored == 0
    assert elapsed < 30, f"a batch with hung programs took {elapsed:.1f} s"
    assert reward.score([sample(GOOD)]) == [1.0]  # the pool is healthy afterwards


def battery_sample(language: str, answer: str, style: str) -> Sample:
    return Sample("write add(a, b)", f"```{language}\n{answer}```",
                  {"tests": hacks.TESTS[(language, style)], "language": language})


@pytest.mark.sandbox
def test_the_hack_battery_gets_no_reward_and_correct_answers_full(sandbox: LocalSandbox) -> None:
    """Every hack of core's battery (Python, JavaScript, bash) scores 0 in either mode."""
    gaming = [battery_sample(h.language, h.answer, h.tests) for h in hacks.HACKS]
    right = [battery_sample(lang, hacks.CORRECT[lang], style)
             for lang, style in sorted(hacks.TESTS)]
    for mode in ("binary", "fraction"):
        reward = CodeTestsReward(mode, sandbox=sandbox, timeout_s=5.0)  # type: ignore[arg-type]
        scores = reward.score(gaming + right)
        gamed = [h.name for h, s in zip(hacks.HACKS, scores, strict=False) if s != 0.0]
        assert gamed == [] and scores[len(gaming):] == [1.0] * len(right)
        assert reward.sandbox_errors == 0


class BrokenSandbox:
    """Stands in for an infrastructure fault (a dead remote service)."""

    def run_many(self, requests: list[Any]) -> list[RunResult]:
        return [RunResult(verdict=Verdict.SANDBOX_ERROR, detail="service down")
                for _ in requests]


def test_sandbox_error_gives_no_reward_and_is_counted() -> None:
    reward = CodeTestsReward("fraction", sandbox=BrokenSandbox())
    batch = score_batch(reward, [sample(GOOD), sample(HALF)])
    assert batch.scores == [None, None] and batch.unscored == 2
    assert batch.mask == [False, False] and reward.sandbox_errors == 2


def test_format_reward() -> None:
    plain, think = FormatReward(), FormatReward(require_think=True)
    texts = [GOOD, "def add(a, b): return a + b", "<think>easy</think>\n" + GOOD,
             "</think><think>" + GOOD]
    assert plain.score([Sample("", t) for t in texts]) == [1.0, 0.0, 1.0, 1.0]
    assert think.score([Sample("", t) for t in texts]) == [0.0, 0.0, 1.0, 0.0]


def verl_compute_score(data_source: str, solution_str: str, ground_truth: str,
                       extra_info: dict[str, Any] | None = None) -> dict[str, float]:
    return {"score": float(ground_truth in solution_str), "acc": 1.0}


def trl_reward(prompts: list[str], completions: list[str], **kwargs: Any) -> list[float]:
    return [float(len(c) > len(p)) + float(kwargs["bonus"][i])
            for i, (p, c) in enumerate(zip(prompts, completions, strict=True))]


def test_verl_and_trl_functions_register_unchanged() -> None:
    verl = as_reward(verl_compute_score, name="mine")
    samples = [Sample("p", "return 42", {"ground_truth": "42", "data_source": "x"}),
               Sample("p", "return 41", {"ground_truth": "42", "data_source": "x"})]
    assert verl.score(samples) == [1.0, 0.0]
    trl = as_reward(trl_reward, name="mine")
    samples = [Sample("long prompt", "a", {"bonus": 0.5}), Sample("p", "longer", {"bonus": 0})]
    assert trl.score(samples) == [0.5, 1.0]


def test_hanging_reward_file_yields_none_after_its_deadline() -> None:
    def stuck(data_source: str, solution_str: str, ground_truth: Any, extra_info: Any) -> float:
        if "hang" in solution_str:
            time.sleep(3)
        return 1.0

    reward = as_reward(stuck, name="stuck", options={"timeout_s": 0.5})
    start = time.monotonic()
    assert score_batch(reward, [Sample("", "ok"), Sample("", "hang")]).scores == [1.0, None]
    assert time.monotonic() - start < 10


def test_builtins_come_from_the_registry() -> None:
    registry = Registry(get_plugin_manager(warn=False))
    assert {"code-tests", "format"} <= set(registry.all("reward"))
    reward = load_reward("format", {"require_think": True}, registry=registry)
    assert isinstance(reward, FormatReward) and reward.require_think
    from codekiln_core.errors import ConfigError

    with pytest.raises(ConfigError, match="use binary or fraction"):
        load_reward("code-tests", {"mode": "partial"}, registry=registry)
