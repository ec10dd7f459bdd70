"""Learning-rate schedules: the shape at the key steps, and the LambdaLR that wraps them."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.recipe import ScheduleConfig
from codekiln_train.schedule import build_scheduler, check_schedule, lr_multiplier


def curve(cfg: ScheduleConfig, total: int) -> list[float]:
    return [lr_multiplier(cfg, step, total) for step in range(total)]


def test_wsd_warms_up_holds_then_decays_to_the_floor() -> None:
    cfg = ScheduleConfig(kind="wsd", warmup_steps=10, decay_fraction=0.2, min_lr_ratio=0.1)
    lr = curve(cfg, 100)
    assert lr[0] == pytest.approx(0.1) and lr[4] == pytest.approx(0.5)
    assert lr[9] == 1.0  # peak at the last warmup step
    assert all(v == 1.0 for v in lr[10:80])  # stable phase
    assert lr[80] < 1.0 and lr[89] == pytest.approx(1 - 0.9 * 10 / 20)  # linear decay
    assert lr[99] == pytest.approx(0.1)  # the floor on the last step
    assert all(a >= b for a, b in pairwise(lr[9:]))
    assert lr_multiplier(cfg, 150, 100) == pytest.approx(0.1)  # past the end: the floor


@pytest.mark.parametrize(("shape", "middle"), [
    ("linear", 0.55), ("cosine", 0.55), ("1-sqrt", 1 - 0.9 * math.sqrt(0.5))])
def test_wsd_decay_shapes(shape: str, middle: float) -> None:
    cfg = ScheduleConfig(kind="wsd", decay_fraction=0.5, decay_shape=shape,  # type: ignore[arg-type]
                         min_lr_ratio=0.1)
    assert lr_multiplier(cfg, 49, 100) == 1.0
    assert lr_multiplier(cfg, 74, 100) == pytest.approx(middle)
    assert lr_multiplier(cfg, 99, 100) == pytest.approx(0.1)


def test_cosine_from_peak_to_floor() -> None:
    cfg = ScheduleConfig(kind="cosine", warmup_steps=4, min_lr_ratio=0.0)
    lr = curve(cfg, 104)
    assert lr[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lr[53] == pytest.approx(0.5)  # half-way through the 100 decay steps
    assert lr[103] == pytest.approx(0.0, abs=1e-12)
    assert all(a > b for a, b in pairwise(lr[3:]))


def test_constant_and_wsd_without_decay_stay_at_peak() -> None:
    for cfg in (ScheduleConfig(kind="constant", warmup_steps=2),
                ScheduleConfig(kind="wsd", warmup_steps=2, decay_fraction=0.0)):
        assert curve(cfg, 6) == pytest.approx([0.5, 1, 1, 1, 1, 1])


def test_phases_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"warmup_steps 90 \+ decay 20 steps"):
        check_schedule(ScheduleConfig(warmup_steps=90, decay_fraction=0.2), 100)
    with pytest.raises(ConfigError, match="at least 0"):
        check_schedule(ScheduleConfig(), -1)
    check_schedule(ScheduleConfig(), 0)  # a 0-step stage exports its start weights
    with pytest.raises(ConfigError, match=r"warmup_steps 1 \+ decay 0 steps"):
        check_schedule(ScheduleConfig(warmup_steps=1), 0)


def test_build_scheduler_drives_the_optimizer_lr() -> None:
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=3e-4)
    cfg = ScheduleConfig(kind="wsd", warmup_steps=3, decay_fraction=0.5, min_lr_ratio=0.1)
    scheduler = build_scheduler(optimizer, cfg, 10)
    seen = []
    for _ in range(10):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([3e-4 * m for m in curve(cfg, 10)])
    resumed = build_scheduler(torch.optim.AdamW([param], lr=3e-4), cfg, 10)
    resumed.load_state_dict(scheduler.state_dict())
    assert resumed.get_last_lr() == scheduler.get_last_lr()
