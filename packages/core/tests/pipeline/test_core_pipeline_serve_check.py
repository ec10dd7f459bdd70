"""``codekiln serve-check``: a real ``codekiln serve`` subprocess, real requests, stopped after."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow


def test_serve_check_serves_a_tiny_model_and_stops_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    testing = pytest.importorskip("codekiln_serve.testing")
    model = testing.build_tiny_model(tmp_path / "tiny")
    code = main(["serve-check", str(model), "--no-lineage", "--max-tokens", "4",
                 "--serve-arg=--device=cpu", "--serve-arg=--threads=1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "completion_latency_s" in out and "chat_latency_s" in out  # the closing table


def test_serve_check_of_a_missing_model_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("codekiln_serve")
    code = main(["serve-check", str(tmp_path / "nothing"), "--no-lineage",
                 "--ready-timeout", "120"])
    err = capsys.readouterr().err
    assert code != 0
    assert "codekiln serve exited with" in err and "\n" not in err.strip()
