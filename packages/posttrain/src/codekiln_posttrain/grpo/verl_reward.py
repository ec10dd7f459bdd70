"""verl reward module: ``compute_score`` runs the sample against its tests in our sandbox.

Point verl at this file (``reward.custom_reward_function.path``). ``ground_truth`` is the
JSON our dataset writer stores: ``{"tests": ..., "language": ...}``. The sandbox is a
``LocalSandbox`` per reward worker process, or the SandboxFusion-compatible service named
by ``CODEKILN_SANDBOX_URL`` (e.g. ``python -m codekiln_core.sandbox.fusion_server``).

verl needs a number for every sample. A ``sandbox_error`` is retried once; if it persists
the sample scores 0.0 but is flagged ``sandbox_error=1`` in verl's reward metrics, so the
fault is counted and visible rather than silently mixed with model failures.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

SANDBOX_URL_ENV = "CODEKILN_SANDBOX_URL"
WORKERS_ENV = "CODEKILN_SANDBOX_WORKERS"
TIMEOUT_ENV = "CODEKILN_SANDBOX_TIMEOUT"
MODE_ENV = "CODEKILN_REWARD_MODE"

_lock = threading.Lock()
_reward: Any = None


def _shared_reward() -> Any:
    global _reward
    with _lock:
        if _reward is None:
            from codekiln_posttrain.rewards.code_tests import CodeTestsReward

            _reward = CodeTestsReward(
                os.environ.get(MODE_ENV, "binary"),  # type: ignore[arg-type]
                workers=int(os.environ.get(WORKERS_ENV, "4")),
                timeout_s=float(os.environ.get(TIMEOUT_ENV, "10")),
                url=os.environ.get(SANDBOX_URL_ENV) or None)
        return _reward


def _columns(ground_truth: Any) -> dict[str, Any]:
    truth = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
    return {"tests": truth["tests"], "language": truth.get("language", "python"),
            "setup": truth.get("setup", "")}


def _scores(solutions: list[str], truths: list[Any]) -> list[dict[str, float]]:
    from codekiln_posttrain.rewards.base import Sample

    reward = _shared_reward()
    samples = [Sample("", s, _columns(t)) for s, t in zip(solutions, truths, strict=True)]
    scores = reward.score(samples)
    retry = [i for i, s in enumerate(scores) if s is None]
    if retry:
        for i, value in zip(retry, reward.score([samples[i] for i in retry]), strict=True):
            scores[i] = value
    return [{"score": 0.0 if s is None else float(s), "acc": float(s == 1.0),
             "sandbox_error": float(s is None)} for s in scores]


def compute_score(data_source: str, solution_str: str, ground_truth: Any,
                  extra_info: dict[str, Any] | None = None, **_: Any) -> dict[str, float]:
    """verl's per-sample reward signature (naive / dapo reward managers)."""
    return _scores([solution_str], [ground_truth])[0]


def compute_score_batch(data_sources: list[str], solution_strs: list[str],
                        ground_truths: list[Any], extra_infos: list[Any] | None = None,
                        **_: Any) -> list[dict[str, float]]:
    """verl's batch signature (``reward_manager.name=batch``): one sandbox pool pass."""
    return _scores(list(solution_strs), list(ground_truths))
