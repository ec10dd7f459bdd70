"""The local GRPO loop resumes mid-run exactly: ``kill -9`` once a checkpoint is on disk,
then ``--resume``, gives every step's metrics and the final weights of an uninterrupted run
(and a resume under other settings is refused before any checkpoint is loaded)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from codekiln_train.checkpoint import complete_checkpoints, step_dir
from codekiln_train.engine.checkpoint_io import COMPLETE

from ..conftest import assert_same_training, launch_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def killed_after_first_checkpoint(argv: list[str], env: dict[str, str], output: Path) -> None:
    """Run ``argv`` and SIGKILL it as soon as the step-1 checkpoint is complete."""
    marker = step_dir(output / "checkpoints", 1) / COMPLETE
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        while not marker.is_file():
            try:
                process.wait(timeout=0.05)  # returns at once if the run ends first
                break
            except subprocess.TimeoutExpired:
                continue
        os.kill(process.pid, signal.SIGKILL)
        _, err = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, f"not killed mid-run: {err[-3000:]}"
    finally:
        if process.poll() is None:
            process.kill()


def test_kill_9_then_resume_equals_the_uninterrupted_run(
        grpo_one_rank: tuple[Path, Path], reward_plugin: Path, tmp_path: Path) -> None:
    recipe, uninterrupted = grpo_one_rank
    from codekiln_train.metrics import read_metrics

    assert any("loss" in row for row in read_metrics(uninterrupted / "metrics.jsonl"))
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "codekiln_core", "posttrain", "grpo", str(recipe), "-o",
            str(out), "--no-lineage", "--set", "engine.gradient_accumulation_steps=2"]
    env = launch_env(reward_plugin)
    killed_after_first_checkpoint(argv, env, out)
    saved = [step for step, _ in complete_checkpoints(out / "checkpoints")]
    assert saved and max(saved) < 3 and not (out / "model").exists(), saved

    other = subprocess.run([*argv, "--resume", "--set", "seed=1"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert other.returncode == 2 and "seed 0 -> 1" in other.stderr, other.stderr[-2000:]

    resumed = subprocess.run([*argv, "--resume"], env=env, capture_output=True, text=True,
                             timeout=1200)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from step {max(saved)}" in resumed.stderr
    assert_same_training(uninterrupted, out)  # every metric of every step, every weight
