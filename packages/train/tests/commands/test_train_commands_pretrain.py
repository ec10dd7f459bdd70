"""``codekiln train pretrain RECIPE``: the contract's flags, the output rule before any work,
and ``--launcher deepspeed`` re-running this same command once per rank.

Training through the CLI is covered by tests/pretrain (kill -9 and ``--resume``; two ranks
under DeepSpeed's launcher and torchrun)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main
from codekiln_core.cli.invoke import load_command_recipe
from codekiln_core.cli.typer_command import Request
from codekiln_train.commands.pretrain import COMMAND
from codekiln_train.engine.launcher import ENTRY_MODULE, RANK_OVERRIDES, apply_env_args


@pytest.mark.parametrize(("words", "present", "absent"), [
    (["train", "pretrain"], ["--output", "--resume", "--register", "--no-lineage", "--set",
                             "--launcher", "--threads", "--peak-flops"], []),
    (["train", "scorer"], ["--output", "--register", "--no-lineage", "--set", "--epochs"],
     ["--resume", "--force"]),
    (["train", "export"], ["--output", "--no-lineage", "--push-to-hub"],
     ["--resume", "--register"]),
])
def test_help_shows_the_contract_flags(words: list[str], present: list[str], absent: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*words, "--help"]) == 0
    text = capsys.readouterr().out
    for flag in present:
        assert flag in text, flag
    for flag in absent:  # a flag that cannot apply is absent (an old alias is hidden)
        assert flag not in text, flag


def test_an_existing_output_is_refused_before_any_work(
        make_recipe: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(["train", "pretrain", str(make_recipe("busy")), "--output", str(out),
                 "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert str(out) in err and "pass --resume" in err and "new --output" in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def rank_request(argv: list[str]) -> Request:
    """What a launched rank's ``codekiln`` parses from its command line (after the entry's
    ``--env`` words): the recipe file and the ``--set`` overrides, in order."""
    assert argv[:2] == ["train", "pretrain"]
    request = Request(recipe_file=Path(argv[2]), resume="--resume" in argv,
                      lineage="--no-lineage" not in argv)
    request.overrides = [argv[i + 1] for i, word in enumerate(argv) if word == "--set"]
    return request


def test_deepspeed_launcher_reruns_this_command_once_per_rank(
        make_recipe: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The process replacement is the boundary: record what would be exec'd, then parse the
    ranks' command line as a rank would."""
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("worker-1 slots=8\nworker-2 slots=8\n")
    calls: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:  # like the real one, it never returns
        calls.append(list(argv))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setenv("CODEKILN_PIPELINE_STEP", "pretrain")
    monkeypatch.setenv("CODEKILN_SERVE_API_KEY", "secret")
    recipe, out = make_recipe("launched"), tmp_path / "run"
    with pytest.raises(SystemExit) as replaced:
        main(["train", "pretrain", str(recipe), "--launcher", "deepspeed", "--hostfile",
              str(hostfile), "--num-gpus", "8", "--master-port", "29511", "--output", str(out),
              "--register", "base", "--set", "seed=3", "--no-lineage"])
    assert replaced.value.code == 0
    assert "launching:" in capsys.readouterr().err
    [command] = calls
    assert command[:3] == [sys.executable, "-m", "deepspeed.launcher.runner"]
    assert command[command.index("--hostfile") + 1] == str(hostfile)
    assert command[command.index("--num_gpus") + 1] == "8"
    assert command[command.index("--master_port") + 1] == "29511"
    module = command.index("--module")
    assert command[module - 1] == "--no_local_rank" and command[module + 1] == ENTRY_MODULE
    entry_args = command[module + 2:]
    assert entry_args[:2] == ["--env", "CODEKILN_PIPELINE_STEP=pretrain"]
    assert "secret" not in " ".join(command)  # only the named, non-secret variables travel
    environ: dict[str, str] = {}
    argv = apply_env_args(entry_args, environ)
    assert environ == {"CODEKILN_PIPELINE_STEP": "pretrain"}
    assert argv[-(2 * len(RANK_OVERRIDES) + 1):] == [
        *[word for item in RANK_OVERRIDES for word in ("--set", item)], "--no-lineage"]

    ranks = load_command_recipe(COMMAND, rank_request(argv))  # validates: hostfile dropped
    assert (ranks.launcher, ranks.hostfile, ranks.num_gpus) == ("none", None, 8)
    assert (ranks.output, ranks.register_as, ranks.seed) == (out, "base", 3)
    assert not out.exists()  # nothing ran here: the launcher process only validated


def test_a_hostfile_without_the_launcher_is_one_line(
        make_recipe: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "pretrain", str(make_recipe("one")), "--hostfile",
                 str(tmp_path / "h"), "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "needs launcher deepspeed" in err, err
