"""Closing tables stay whole when a run's output goes to a log file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from codekiln_core.cli.console import PIPED_WIDTH, table_console

WIDE_TABLE = """
from rich.table import Table
from codekiln_core.cli.console import table_console
table = Table()
for name in ("step", "kind", "status", "time", "run", "metrics", "plots"):
    table.add_column(name, overflow="fold")
table.add_row("shards-val", "shards", "ran", "10.5s", "a6ffdb21", "sequences=77",
              "curves-pretrain-rules.png")  # 94 columns: rich's 80 would fold it
table_console().print(table)
"""

#: What CI runners often say: a forced terminal whose TERM is dumb (rich then uses 80×25).
CI_LIKE = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "TERM": "dumb"}
#: Plain pipe: nothing forces a terminal.
PLAIN: dict[str, str] = {}
ENVIRONMENTS = pytest.mark.parametrize("extra", [PLAIN, CI_LIKE], ids=["plain", "ci-like"])
TERMINAL_KEYS = ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM", "NO_COLOR")


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TERMINAL_KEYS}
    return {**env, **extra}


def run_piped(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", WIDE_TABLE], capture_output=True, text=True,
                          env=env, check=True)
    return done.stdout


@ENVIRONMENTS
def test_piped_output_keeps_every_cell_on_one_line(extra: dict[str, str]) -> None:
    out = run_piped(clean_env(extra))
    assert "curves-pretrain-rules.png" in out and "sequences=77" in out, out
    assert len(out.splitlines()) == 5, out  # top, header, rule, one row, bottom


@ENVIRONMENTS
def test_columns_still_decides(monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]) -> None:
    for key in TERMINAL_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "60")
    assert table_console().width == 60
    monkeypatch.delenv("COLUMNS")
    assert table_console().width == PIPED_WIDTH  # pytest's capture is not a terminal
