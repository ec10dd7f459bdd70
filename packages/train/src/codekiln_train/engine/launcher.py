"""Multi-GPU and multi-node runs through DeepSpeed's own launcher, with the same recipe.

``codekiln train pretrain RECIPE --launcher deepspeed [--hostfile H]`` (and ``codekiln
posttrain sft|dpo|grpo``, whose recipes carry the same keys) replaces itself with::

    python -m deepspeed.launcher.runner [--hostfile H] [--num_gpus N] [--master_port P] \\
        --no_local_rank --module codekiln_train.launch [--env NAME=VALUE]... \\
        train pretrain RECIPE [--set k=v ...] --set launcher="none" --set hostfile=null \\
        [--resume] [--no-lineage]

DeepSpeed's runner starts one process per GPU on every host of the hostfile (over pdsh or
ssh), sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, and each process runs
:mod:`codekiln_train.launch`, which is the same pretraining code as the one-process command.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.cli.invoke import Invocation

LAUNCHERS = ("none", "deepspeed")
#: What each launched rank runs instead of the launcher settings: this one process (a
#: hostfile without the launcher fails validation).
RANK_OVERRIDES = ('launcher="none"', "hostfile=null")
#: The per-process entry point the launcher runs (``python -m``).
ENTRY_MODULE = "codekiln_train.launch"
#: What rank 0 on another host needs from the launching shell but DeepSpeed's multi-node
#: runner does not export (it passes only MLFLOW*, NCCL*, PYTHON*, ... over pdsh/ssh): the
#: pipeline's parent run and step (so the run nests under ``codekiln run``'s parent) and
#: where artifacts live. They travel as leading ``--env NAME=VALUE`` words that the entry
#: consumes. No secrets here: command lines are visible to every user of a host.
FORWARDED_ENV = ("CODEKILN_PARENT_RUN_ID", "CODEKILN_PIPELINE_STEP", "CODEKILN_ARTIFACT_ROOT")
ENV_FLAG = "--env"


def env_args(environ: Mapping[str, str]) -> list[str]:
    """``--env NAME=VALUE`` for each variable of :data:`FORWARDED_ENV` set in ``environ``."""
    args: list[str] = []
    for name in FORWARDED_ENV:
        if environ.get(name):
            args += [ENV_FLAG, f"{name}={environ[name]}"]
    return args


def apply_env_args(args: Sequence[str], environ: dict[str, str] | None = None) -> list[str]:
    """Set the leading ``--env`` words' variables (in ``os.environ`` by default); return
    the remaining arguments. Only :data:`FORWARDED_ENV` names are accepted."""
    import os

    target = os.environ if environ is None else environ
    rest = list(args)
    while len(rest) >= 2 and rest[0] == ENV_FLAG:
        name, sep, value = rest[1].partition("=")
        if not sep or name not in FORWARDED_ENV:
            raise ConfigError(f"{ENV_FLAG} {rest[1]!r}: expected NAME=VALUE with NAME one of "
                              f"{', '.join(FORWARDED_ENV)}")
        target[name] = value
        rest = rest[2:]
    return rest


def deepspeed_command(forwarded: Sequence[str], *, hostfile: Path | None = None,
                      num_gpus: int | None = None, master_port: int | None = None,
                      python: str | None = None) -> list[str]:
    """The full ``deepspeed`` launcher command line (through ``python -m`` of this env)."""
    if hostfile is not None and not Path(hostfile).is_file():
        raise ConfigError(f"--hostfile {hostfile}: no such file; write one line per host, "
                          "e.g. 'worker-1 slots=8' (DeepSpeed's hostfile format)")
    command = [python or sys.executable, "-m", "deepspeed.launcher.runner"]
    if hostfile is not None:
        command += ["--hostfile", str(hostfile)]
    if num_gpus is not None:
        command += ["--num_gpus", str(num_gpus)]
    if master_port is not None:
        command += ["--master_port", str(master_port)]
    # Our entry reads LOCAL_RANK from the environment; no --local_rank argument is appended.
    command += ["--no_local_rank", "--module", ENTRY_MODULE, *forwarded]
    return command


def rendezvous_port(recipe: Any) -> int | None:
    """The recipe's ``master_port``, else the launching shell's ``MASTER_PORT`` when it set
    one (DeepSpeed's default, 29500, collides when two runs share a host)."""
    import os

    from codekiln_train.engine.environment import filled_by_us

    if recipe.master_port is not None:
        return int(recipe.master_port)
    port = os.environ.get("MASTER_PORT", "")
    return int(port) if port.isdigit() and not filled_by_us() else None


def launch_ranks(invocation: Invocation[Any]) -> None:
    """A command's ``launch``: with ``launcher: deepspeed`` in its recipe (a
    ``codekiln_train.recipe.LaunchSettings``), replace this process with DeepSpeed's
    launcher, which runs this same command (``launcher: none``) once per GPU on every host."""
    import os
    import shlex

    recipe = invocation.recipe
    if recipe.launcher != "deepspeed":
        return
    from codekiln_core.cli.typer_command import rerun_argv

    argv = rerun_argv(invocation.command, invocation.request, *RANK_OVERRIDES)
    command = deepspeed_command([*env_args(os.environ), *argv], hostfile=recipe.hostfile,
                                num_gpus=recipe.num_gpus, master_port=rendezvous_port(recipe))
    print(f"launching: {shlex.join(command)}", file=sys.stderr)
    os.execv(command[0], command)
