"""codekiln-posttrain is mounted through the hook, says what is coming, and has no fake commands."""

from __future__ import annotations

import json

import pytest
from typer.main import get_group

from codekiln_core.cli.app import build_app, main
from codekiln_posttrain.cli import posttrain_app


def test_group_is_mounted_by_its_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "list", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)["plugins"]
    mine = [p for p in plugins if p["distribution"] == "codekiln-posttrain"]
    assert mine and "codekiln_register_commands" in mine[0]["hooks"]
    assert "posttrain" in get_group(build_app()).commands


def test_help_says_what_is_coming_and_lists_no_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["posttrain", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Coming:" in out and "No commands yet" in out
    assert not get_group(posttrain_app).commands  # nothing that pretends to work


def test_version_names_this_member(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "codekiln-posttrain 0.1.0" in capsys.readouterr().out

