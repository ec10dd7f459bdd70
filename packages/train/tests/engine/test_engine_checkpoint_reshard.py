"""What a checkpoint's batch geometry allows at resume, checked before anything loads.

The resumes themselves (ZeRO-0 and ZeRO-2 from two ranks to one, bit for bit) run in
``tests/pretrain/test_train_pretrain_ranks.py``; this is the rule in between.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.engine.checkpoint_reshard import check_resumable

TWO_RANKS = {"world_size": 2, "zero_stage": 3, "micro_batch_size": 4,
             "gradient_accumulation_steps": 1, "global_batch": 8}
ONE_RANK = {**TWO_RANKS, "world_size": 1, "gradient_accumulation_steps": 2}
WHERE = Path("run/checkpoints/step-00000002")


def test_zero3_resumes_only_at_the_world_size_that_wrote_it() -> None:
    with pytest.raises(ConfigError, match="step-00000002 was written by 2 processes with "
                                          "ZeRO-3, which shards the weights themselves and "
                                          "resumes only at that world size; relaunch with 2 "
                                          "processes"):
        check_resumable(ONE_RANK, TWO_RANKS, WHERE)
    check_resumable(TWO_RANKS, TWO_RANKS, WHERE)


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_zero_0_to_2_resume_at_another_world_size_with_the_same_global_batch(
        stage: int) -> None:
    check_resumable({**ONE_RANK, "zero_stage": stage}, {**TWO_RANKS, "zero_stage": stage},
                    WHERE)


def test_another_global_batch_names_both_and_the_fix() -> None:
    halved = {**ONE_RANK, "zero_stage": 0, "gradient_accumulation_steps": 1,
              "global_batch": 4}
    with pytest.raises(ConfigError) as caught:
        check_resumable(halved, {**TWO_RANKS, "zero_stage": 0}, WHERE)
    assert str(caught.value) == (
        f"checkpoint {WHERE} trained 8 sequences per step (2 processes x micro-batch 4 x "
        "accumulation 1), this run 4 sequences per step (1 process x micro-batch 4 x "
        "accumulation 1); set engine.global_batch_tokens (it keeps the batch at any world "
        "size) or resume with 2 processes and the same batch settings")


def test_a_checkpoint_from_before_the_batch_was_recorded_still_resumes() -> None:
    old = {"world_size": 1, "zero_stage": 0}  # complete.json as written before
    check_resumable({**ONE_RANK, "zero_stage": 0}, old, WHERE)
