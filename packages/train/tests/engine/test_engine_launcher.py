"""The DeepSpeed launcher command line and the one-process environment (no torch needed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.engine.environment import ensure_distributed_env
from codekiln_train.engine.launcher import (
    ENTRY_MODULE,
    apply_env_args,
    check_launcher,
    deepspeed_command,
    forwarded_args,
)


def test_launcher_runs_our_module_with_the_same_options(tmp_path: Path) -> None:
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("worker-1 slots=8\nworker-2 slots=8\n")
    args = forwarded_args(Path("recipes/r.yaml"), sets=["engine.zero_stage=3"], resume=True,
                          register="base", threads=4)
    command = deepspeed_command(args, hostfile=hostfile, num_gpus=8, python="/venv/python")
    assert command[:3] == ["/venv/python", "-m", "deepspeed.launcher.runner"]
    assert command[command.index("--hostfile") + 1] == str(hostfile)
    assert command[command.index("--num_gpus") + 1] == "8"
    module = command.index("--module")
    assert command[module - 1] == "--no_local_rank" and command[module + 1] == ENTRY_MODULE
    assert command[module + 2:] == ["recipes/r.yaml", "--set", "engine.zero_stage=3",
                                    "--resume", "--register", "base", "--threads", "4"]


def test_launcher_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        deepspeed_command(["r.yaml"], hostfile=Path("/nonexistent/hostfile"))
    with pytest.raises(ConfigError, match="choose one of none, deepspeed"):
        check_launcher("torchrun", None)
    with pytest.raises(ConfigError, match="--hostfile needs --launcher deepspeed"):
        check_launcher("none", Path("h"))


def test_cli_execs_the_launcher_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The process replacement is the boundary: record what would be exec'd."""
    from codekiln_core.cli.app import main

    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: {preset: tiny}\nstages:\n  - {name: a, steps: 2, seq_len: 64, "
                      "mixture: [{path: /nowhere/shards}]}\noutput: out\n")
    calls: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(list(argv)))
    monkeypatch.setattr("codekiln_train.recipe.load_pretrain_recipe",
                        lambda path, sets: None)  # the shards are on the cluster, not here
    assert main(["train", "pretrain", str(recipe), "--launcher", "deepspeed",
                 "--set", "seed=3", "--no-lineage"]) == 0
    assert calls and calls[0][0] == sys.executable
    assert calls[0][-5:] == [ENTRY_MODULE, str(recipe), "--set", "seed=3", "--no-lineage"]
    assert "launching:" in capsys.readouterr().err


def test_one_process_environment_is_filled_not_overridden(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                 "DS_ACCELERATOR", "CODEKILN_FILLED_MASTER_PORT"):
        monkeypatch.setenv(name, "x")  # recorded, so teardown restores the real value
        monkeypatch.delenv(name)
    ensure_distributed_env(device="cpu")
    assert (os.environ["RANK"], os.environ["WORLD_SIZE"], os.environ["DS_ACCELERATOR"]) == \
        ("0", "1", "cpu")
    parent_port = os.environ["MASTER_PORT"]
    assert 0 < int(parent_port) < 65536
    # A child process inheriting our filled-in values picks its own port (the parent's
    # rendezvous may still be listening on the first one).
    ensure_distributed_env(device="cpu")
    assert os.environ["MASTER_PORT"] != parent_port and os.environ["WORLD_SIZE"] == "1"
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.setenv("MASTER_PORT", "29500")
    monkeypatch.delenv("LOCAL_RANK")
    ensure_distributed_env(device="cpu")  # a launcher's values are kept
    assert (os.environ["RANK"], os.environ["WORLD_SIZE"], os.environ["MASTER_PORT"]) == \
        ("3", "8", "29500")


def test_pipeline_variables_reach_ranks_on_other_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepSpeed's multi-node runner exports only MLFLOW*/NCCL*/PYTHON*...; the pipeline's
    parent run and step travel on the entry's command line instead, and the entry sets them
    before the pretrain command (and its lineage run) starts."""
    shell = {"CODEKILN_PARENT_RUN_ID": "abc123", "CODEKILN_PIPELINE_STEP": "pretrain",
             "CODEKILN_SERVE_API_KEY": "secret", "HOME": "/root"}
    args = forwarded_args(Path("r.yaml"), register="base", env=shell)
    assert args == ["--env", "CODEKILN_PARENT_RUN_ID=abc123", "--env",
                    "CODEKILN_PIPELINE_STEP=pretrain", "r.yaml", "--register", "base"]
    assert "secret" not in " ".join(args)  # only the named, non-secret variables travel
    command = deepspeed_command(args)
    assert command[command.index(ENTRY_MODULE) + 1:] == args

    import codekiln_core.cli.app as app
    from codekiln_train import launch

    calls: list[list[str]] = []
    monkeypatch.setattr(app, "main", lambda argv: calls.append(list(argv)) or 0)
    for name in ("CODEKILN_PARENT_RUN_ID", "CODEKILN_PIPELINE_STEP"):
        monkeypatch.delenv(name, raising=False)
    assert launch.main(args) == 0
    assert os.environ["CODEKILN_PARENT_RUN_ID"] == "abc123"
    assert os.environ["CODEKILN_PIPELINE_STEP"] == "pretrain"
    assert calls == [["train", "pretrain", "r.yaml", "--register", "base", "--launcher", "none"]]


def test_only_named_variables_are_accepted_by_the_entry() -> None:
    env: dict[str, str] = {}
    assert apply_env_args(["--env", "CODEKILN_PIPELINE_STEP=x", "r.yaml"], env) == ["r.yaml"]
    assert env == {"CODEKILN_PIPELINE_STEP": "x"}
    with pytest.raises(ConfigError, match="NAME one of CODEKILN_PARENT_RUN_ID"):
        apply_env_args(["--env", "PATH=/evil", "r.yaml"], env)
