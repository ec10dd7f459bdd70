"""Two ranks, started the two ways a cluster starts them, train what one process trains.

``codekiln train pretrain RECIPE --launcher deepspeed --num-gpus 2`` replaces itself with
DeepSpeed's launcher, which re-runs the same command with ``launcher: none`` once per rank
through ``codekiln_train.launch``; ``torchrun --nproc-per-node 2 -m codekiln_core train
pretrain RECIPE`` runs the command in each rank directly. Both train the same global batch
as one process with gradient accumulation 2 (the recipe gives ``global_batch_tokens``), and
every logged number (loss, grad norm, lr, validation loss) equals the one-process run's bit
for bit on CPU (gloo).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codekiln_train.engine.environment import free_port
from codekiln_train.metrics import read_metrics

pytestmark = pytest.mark.slow

STEPS = 4
#: micro_batch_size 4 x seq_len 128 x 2 ranks: accumulation 1 on two ranks, 2 on one.
GLOBAL_BATCH_TOKENS = 1024


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


def test_deepspeed_launcher_and_torchrun_ranks_match_one_process(make_recipe: Any,
                                                                  tmp_path: Path) -> None:
    from codekiln_train.pretrain import run_pretrain
    from codekiln_train.recipe import load_pretrain_recipe

    recipe = make_recipe("ranks", steps=STEPS, checkpoint={"every_steps": STEPS},
                         log={"eval_every_steps": 2},
                         engine={"gradient_accumulation_steps": None,
                                 "global_batch_tokens": GLOBAL_BATCH_TOKENS})
    common = [str(recipe), "--threads", "1", "--device", "cpu", "--no-lineage"]

    launched = tmp_path / "deepspeed-launcher"
    printed = _run([sys.executable, "-m", "codekiln_core", "train", "pretrain", *common,
                    "--output", str(launched), "--launcher", "deepspeed", "--num-gpus", "2",
                    "--master-port", str(free_port())])
    assert "codekiln_train.launch train pretrain" in printed  # the per-rank re-run

    torchrun = tmp_path / "torchrun"
    _run([sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
          "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
          "--master-port", str(free_port()), "-m", "codekiln_core", "train", "pretrain",
          *common, "--output", str(torchrun)])

    one = load_pretrain_recipe(recipe, ["device=cpu"])
    summary = run_pretrain(one).stages[0][1]
    assert summary is not None and summary.steps == STEPS

    reference = _curve(Path(one.output))
    assert [row[0] for row in reference] == list(range(1, STEPS + 1))
    assert [row[4] is not None for row in reference] == [False, True, False, True]
    assert _curve(launched) == reference
    assert _curve(torchrun) == reference
    for output in (launched, torchrun):  # rank 0 exported the model; the run is whole
        assert (output / "model" / "config.json").is_file()
        assert (output / "stages" / "01-regular" / "done.json").is_file()
