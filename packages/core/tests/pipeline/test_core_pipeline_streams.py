"""A step's stderr reaches the log whole (bars' carriage returns included) and stays live."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from codekiln_core.pipeline.streams import LockedLog, copy_stderr, terminal_env


def test_stderr_is_copied_to_the_log_and_the_terminal(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    code = "import sys; sys.stderr.write('10%\\r50%\\r100%\\n'); sys.stderr.write('error: x')"
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    assert process.stderr is not None
    sink = io.StringIO()
    thread = copy_stderr(process.stderr, LockedLog(sink))
    assert process.wait() == 0
    thread.join(timeout=10)
    assert sink.getvalue() == "10%\r50%\r100%\nerror: x"
    assert capsys.readouterr().err == sink.getvalue()


def test_terminal_env_only_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert terminal_env() == {}

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    env = terminal_env()
    assert env["TTY_COMPATIBLE"] == "1" and int(env["COLUMNS"]) > 0
