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
              "curves-pretrain-rules.png")
table_console().print(table)
"""


def run_piped(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", WIDE_TABLE], capture_output=True, text=True,
                          env=env, check=True)
    return done.stdout


def test_piped_output_keeps_every_cell_on_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    out = run_piped(env)
    assert "curves-pretrain-rules.png" in out and "sequences=77" in out, out
    assert len(out.splitlines()) == 5, out  # top, header, rule, one row, bottom


def test_columns_still_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert table_console().width == 60
    monkeypatch.delenv("COLUMNS")
    assert table_console().width == PIPED_WIDTH  # pytest's capture is not a terminal
