"""The DeepSpeed launcher command line and the one-process environment (no torch needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_train.engine.environment import ensure_distributed_env
from codekiln_train.engine.launcher import (
    ENTRY_MODULE,
    apply_env_args,
    deepspeed_command,
    env_args,
)


def test_launcher_runs_our_module_with_the_command_it_is_given(tmp_path: Path) -> None:
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("worker-1 slots=8\nworker-2 slots=8\n")
    argv = ["train", "pretrain", "recipes/r.yaml", "--set", "engine.zero_stage=3", "--resume"]
    command = deepspeed_command(argv, hostfile=hostfile, num_gpus=8, master_port=29600,
                                python="/venv/python")
    assert command[:3] == ["/venv/python", "-m", "deepspeed.launcher.runner"]
    assert command[command.index("--hostfile") + 1] == str(hostfile)
    assert command[command.index("--num_gpus") + 1] == "8"
    assert command[command.index("--master_port") + 1] == "29600"
    module = command.index("--module")
    assert command[module - 1] == "--no_local_rank" and command[module + 1] == ENTRY_MODULE
    assert command[module + 2:] == argv


def test_a_missing_hostfile_is_one_line() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        deepspeed_command(["r.yaml"], hostfile=Path("/nonexistent/hostfile"))


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


def test_only_named_pipeline_variables_travel_to_ranks_on_other_hosts() -> None:
    """DeepSpeed's multi-node runner exports only MLFLOW*/NCCL*/PYTHON*...; the pipeline's
    parent run and step travel on the entry's command line instead."""
    shell = {"CODEKILN_PARENT_RUN_ID": "abc123", "CODEKILN_PIPELINE_STEP": "pretrain",
             "CODEKILN_SERVE_API_KEY": "secret", "HOME": "/root"}
    assert env_args(shell) == ["--env", "CODEKILN_PARENT_RUN_ID=abc123", "--env",
                               "CODEKILN_PIPELINE_STEP=pretrain"]


def test_only_named_variables_are_accepted_by_the_entry() -> None:
    env: dict[str, str] = {}
    assert apply_env_args(["--env", "CODEKILN_PIPELINE_STEP=x", "r.yaml"], env) == ["r.yaml"]
    assert env == {"CODEKILN_PIPELINE_STEP": "x"}
    with pytest.raises(ConfigError, match="NAME one of CODEKILN_PARENT_RUN_ID"):
        apply_env_args(["--env", "PATH=/evil", "r.yaml"], env)
