"""Data parallelism as users launch it: two ranks train exactly what one rank accumulating
two micro-batches trains, for SFT, DPO and GRPO.

Each test starts a real launcher on 2 CPU processes over gloo (DeepSpeed's, through
``--launcher deepspeed``, for SFT and GRPO; torchrun for DPO) and compares with the same
recipe run by one process with ``engine.gradient_accumulation_steps=2``. Every logged
per-step number (loss, gradient norm, DPO's rewards, GRPO's rewards and groups) and every
exported weight must be equal bit for bit: both runs add the same two micro-batch gradients,
each halved exactly (by DeepSpeed's accumulation, or by its all-reduce average), so no
rounding order differs. Only rank 0 records: the launched SFT run is one MLflow run with one
registered version.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_train.engine.environment import free_port

from ..conftest import assert_same_training, launch_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]
RECIPES = Path(__file__).resolve().parents[4] / "recipes"
DATA = RECIPES / "data"
SMALL = ["--set", "decontamination.enabled=false", "--set", "max_steps=2"]


def codekiln(*args: str) -> list[str]:
    return [sys.executable, "-m", "codekiln_core", *args]


def torchrun(*args: str) -> list[str]:
    """``torchrun --nproc-per-node 2 $(which codekiln) ...``, as a user types it."""
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
            "--master-port", str(free_port()), str(Path(sys.executable).with_name("codekiln")),
            *args]


def started(argv: list[str], *paths: Path) -> subprocess.Popen[str]:
    env = launch_env(*paths)
    env["MASTER_PORT"] = str(free_port())  # DeepSpeed's launcher takes the shell's port
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finished(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=1400)
    assert process.returncode == 0, output[-4000:]
    return output


def test_sft_on_two_ranks_by_deepspeeds_launcher_equals_one_rank(
        base_model: Path, tmp_path: Path, mlflow_store: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["posttrain", "sft", str(RECIPES / "posttrain-tiny-sft.yaml"),
            str(DATA / "posttrain-tiny-sft.jsonl"), "--model", str(base_model), *SMALL]
    two = started(codekiln(*argv, "-o", str(tmp_path / "two"), "--launcher", "deepspeed",
                           "--num-gpus", "2", "--register", "tiny-dp"))
    assert main([*argv, "-o", str(tmp_path / "one"), "--no-lineage",
                 "--set", "engine.gradient_accumulation_steps=2"]) == 0
    shown = finished(two)
    assert "registered: models:/tiny-dp/1" in shown
    assert_same_training(tmp_path / "one", tmp_path / "two",
                         ("loss", "grad_norm", "lr", "target_tokens", "tokens"))

    from mlflow import MlflowClient

    client = MlflowClient()
    assert [int(v.version) for v in client.search_model_versions("name='tiny-dp'")] == [1]
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert len(client.search_runs(experiments)) == 1  # rank 1 logged nothing

    # A later --resume under other settings is refused before any checkpoint is loaded.
    capsys.readouterr()
    assert main([*argv, "-o", str(tmp_path / "one"), "--no-lineage", "--resume",
                 "--set", "engine.lr=0.01"]) == 2
    err = capsys.readouterr().err.strip()
    assert "run-settings.json" in err and "engine.lr 0.001 -> 0.01" in err
    assert len(err.splitlines()) == 1


def test_dpo_on_two_ranks_by_torchrun_equals_one_rank(base_model: Path,
                                                      tmp_path: Path) -> None:
    argv = ["posttrain", "dpo", str(RECIPES / "posttrain-tiny-dpo.yaml"),
            str(DATA / "posttrain-tiny-pairs.jsonl"), "--model", str(base_model), *SMALL,
            "--no-lineage"]
    two = started(torchrun(*argv, "-o", str(tmp_path / "two")))
    assert main([*argv, "-o", str(tmp_path / "one"),
                 "--set", "engine.gradient_accumulation_steps=2"]) == 0
    finished(two)
    assert_same_training(tmp_path / "one", tmp_path / "two",
                         ("loss", "grad_norm", "rewards/chosen", "rewards/rejected",
                          "rewards/margins", "rewards/accuracies", "logps/chosen"))
    references = [(out / "reference_logps.jsonl").read_text() for out in (tmp_path / "one",
                                                                          tmp_path / "two")]
    assert references[0] == references[1]


def test_grpo_on_two_ranks_by_deepspeeds_launcher_equals_one_rank(
        grpo_one_rank: tuple[Path, Path], reward_plugin: Path, tmp_path: Path) -> None:
    recipe, one = grpo_one_rank
    two = started(codekiln("posttrain", "grpo", str(recipe), "-o", str(tmp_path / "two"),
                           "--no-lineage", "--launcher", "deepspeed", "--num-gpus", "2"),
                  reward_plugin)
    finished(two)
    assert_same_training(one, tmp_path / "two")  # every metric of every step

    from codekiln_train.metrics import read_metrics

    rows = read_metrics(one / "metrics.jsonl")
    assert sum("loss" in row for row in rows) >= 1 and rows[0]["groups_kept"] >= 1
