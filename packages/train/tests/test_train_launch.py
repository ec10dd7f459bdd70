"""The per-process entry of launched runs: it applies the forwarded variables, then runs the
``codekiln`` command line it was given (the launching command's own, with launcher none)."""

from __future__ import annotations

import os

import pytest


def test_entry_sets_the_forwarded_variables_then_runs_the_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import codekiln_core.cli.app as app
    from codekiln_train import launch

    calls: list[list[str]] = []
    monkeypatch.setattr(app, "main", lambda argv: calls.append(list(argv)) or 0)
    for name in ("CODEKILN_PARENT_RUN_ID", "CODEKILN_PIPELINE_STEP"):
        monkeypatch.delenv(name, raising=False)
    command = ["train", "pretrain", "r.yaml", "--set", 'launcher="none"', "--resume"]
    assert launch.main(["--env", "CODEKILN_PARENT_RUN_ID=abc123", "--env",
                        "CODEKILN_PIPELINE_STEP=pretrain", *command]) == 0
    assert os.environ["CODEKILN_PARENT_RUN_ID"] == "abc123"
    assert os.environ["CODEKILN_PIPELINE_STEP"] == "pretrain"
    assert calls == [command]
