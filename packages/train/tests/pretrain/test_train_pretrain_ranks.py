"""Two ranks, started the two ways a cluster starts them, train what one process trains; and
a two-rank checkpoint resumes on one rank.

``codekiln train pretrain RECIPE --launcher deepspeed --num-gpus 2`` replaces itself with
DeepSpeed's launcher, which re-runs the same command with ``launcher: none`` once per rank
through ``codekiln_train.launch``; ``torchrun --nproc-per-node 2 -m codekiln_core train
pretrain RECIPE`` runs the command in each rank directly. Both train the same global batch
as one process with gradient accumulation 2 (the recipe gives ``global_batch_tokens``), and
every logged number (loss, grad norm, lr, validation loss) equals the one-process run's bit
for bit on CPU (gloo): ZeRO-0 through DeepSpeed's launcher, ZeRO-2 through torchrun.

Each two-rank run, cut back to its step-2 checkpoint (what a kill right after it leaves),
resumes on one process with accumulation 2 and ends bit for bit where the uninterrupted
one-process run does: ZeRO-0 loads DeepSpeed's files directly, ZeRO-2 through DeepSpeed's
universal checkpoint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.net import free_port
from codekiln_train.checkpoint import complete_checkpoints
from codekiln_train.metrics import read_metrics

from ..conftest import tiny_recipe, write_recipe

pytestmark = pytest.mark.slow

STEPS = 4
#: micro_batch_size 4 x seq_len 128 x 2 ranks: accumulation 1 on two ranks, 2 on one.
GLOBAL_BATCH_TOKENS = 1024
CHECKPOINTS = "stages/01-regular/checkpoints"


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
            "DS_ACCELERATOR": "cpu"}


def _curve(output: Path) -> list[tuple[Any, ...]]:
    return [(r["step"], r.get("loss"), r.get("grad_norm"), r.get("lr"), r.get("val_loss"))
            for r in read_metrics(output / "metrics.jsonl")]


def _run(command: list[str]) -> str:
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout + done.stderr


@dataclass(frozen=True)
class RankRuns:
    recipe: Path
    launched: Path  # ZeRO-0, two ranks through DeepSpeed's launcher
    torchrun: Path  # ZeRO-2, two ranks through torchrun
    one: dict[int, Path]  # one process, accumulation 2, by ZeRO stage


def _one_process(recipe: Path, output: Path, zero_stage: int, *, resume: bool = False) -> Any:
    from codekiln_train.pretrain import run_pretrain
    from codekiln_train.recipe import load_pretrain_recipe

    loaded = load_pretrain_recipe(recipe, ["device=cpu", f"output={output}",
                                           f"engine.zero_stage={zero_stage}"])
    return run_pretrain(loaded, resume=resume).stages[0][1]


@pytest.fixture(scope="module")
def rank_runs(tiny_shards: Any, tmp_path_factory: pytest.TempPathFactory) -> RankRuns:
    root = tmp_path_factory.mktemp("ranks")
    recipe = write_recipe(root / "ranks.yaml", tiny_recipe(
        tiny_shards, root / "ranks", steps=STEPS,
        checkpoint={"every_steps": 2, "keep_last": 2}, log={"eval_every_steps": 2},
        engine={"gradient_accumulation_steps": None,
                "global_batch_tokens": GLOBAL_BATCH_TOKENS}))
    common = [str(recipe), "--threads", "1", "--device", "cpu", "--no-lineage"]

    launched = root / "deepspeed-launcher"
    printed = _run([sys.executable, "-m", "codekiln_core", "train", "pretrain", *common,
                    "--output", str(launched), "--launcher", "deepspeed", "--num-gpus", "2",
                    "--master-port", str(free_port())])
    assert "codekiln_train.launch train pretrain" in printed  # the per-rank re-run

    torchrun = root / "torchrun"
    _run([sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
          "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
          "--master-port", str(free_port()), "-m", "codekiln_core", "train", "pretrain",
          *common, "--output", str(torchrun), "--set", "engine.zero_stage=2"])

    one = {stage: root / f"one-zero{stage}" for stage in (0, 2)}
    for stage, output in one.items():
        summary = _one_process(recipe, output, stage)
        assert summary is not None and summary.steps == STEPS
    return RankRuns(recipe, launched, torchrun, one)


def test_deepspeed_launcher_and_torchrun_ranks_match_one_process(rank_runs: RankRuns) -> None:
    reference = _curve(rank_runs.one[0])
    assert [row[0] for row in reference] == list(range(1, STEPS + 1))
    assert [row[4] is not None for row in reference] == [False, True, False, True]
    assert _curve(rank_runs.launched) == reference
    assert _curve(rank_runs.torchrun) == _curve(rank_runs.one[2])
    for output in (rank_runs.launched, rank_runs.torchrun):  # rank 0 exported; run is whole
        assert (output / "model" / "config.json").is_file()
        assert (output / "stages" / "01-regular" / "done.json").is_file()


def _cut_back_to_step_2(two_ranks: Path, copy: Path) -> None:
    """What ``kill -9`` right after the step-2 checkpoint leaves: later rows in
    metrics.jsonl, no later checkpoint, no export, no done.json."""
    shutil.copytree(two_ranks, copy)
    shutil.rmtree(copy / CHECKPOINTS / "step-00000004")
    shutil.rmtree(copy / "model")
    (copy / "stages" / "01-regular" / "done.json").unlink()
    assert [step for step, _ in complete_checkpoints(copy / CHECKPOINTS)] == [2]


@pytest.mark.parametrize("zero_stage", [0, 2])
def test_two_rank_checkpoint_resumes_on_one_rank_bit_for_bit(
        rank_runs: RankRuns, zero_stage: int, tmp_path: Path) -> None:
    import json

    two_ranks = rank_runs.launched if zero_stage == 0 else rank_runs.torchrun
    resumed = tmp_path / "resumed"
    _cut_back_to_step_2(two_ranks, resumed)
    summary = _one_process(rank_runs.recipe, resumed, zero_stage, resume=True)
    assert summary is not None and summary.resumed_from == 2

    assert _curve(resumed) == _curve(rank_runs.one[zero_stage])
    written = json.loads((resumed / CHECKPOINTS / "step-00000004" / "complete.json").read_text())
    assert written["world_size"] == 1 and written["global_batch"] == 8
    assert sorted(p.name for p in (resumed / CHECKPOINTS).iterdir()
                  if p.name.startswith("step-")) == ["step-00000002", "step-00000004"]


def test_another_global_batch_or_zero_stage_is_refused_in_one_line(
        rank_runs: RankRuns, tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError
    from codekiln_train.pretrain import run_pretrain
    from codekiln_train.recipe import load_pretrain_recipe

    resumed = tmp_path / "resumed"
    _cut_back_to_step_2(rank_runs.launched, resumed)
    smaller = load_pretrain_recipe(rank_runs.recipe, ["device=cpu", f"output={resumed}",
                                                      "engine.global_batch_tokens=512"])
    with pytest.raises(ConfigError, match=r"trained 8 sequences per step \(2 processes x "
                                          r"micro-batch 4 x accumulation 1\), this run 4 "
                                          r"sequences per step \(1 process "):
        run_pretrain(smaller, resume=True)
    other_stage = load_pretrain_recipe(rank_runs.recipe, ["device=cpu", f"output={resumed}",
                                                          "engine.zero_stage=1"])
    with pytest.raises(ConfigError, match=r"written with ZeRO stage 0, this run has "
                                          r"engine\.zero_stage=1; resume with"):
        run_pretrain(other_stage, resume=True)
    assert [step for step, _ in complete_checkpoints(resumed / CHECKPOINTS)] == [2]

