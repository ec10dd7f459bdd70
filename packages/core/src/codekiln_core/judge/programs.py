"""Turn a submission into the sandbox request that judges it (any language the sandbox runs).

Every judged program follows one pattern: the judge's files (answer, tests, a per-run nonce)
travel beside a harness; the harness reads and deletes them before the answer runs, runs the
answer and then the tests, and ends by printing the nonce. A run passes only when it exits
cleanly *and* that nonce is on stdout (the sandbox checks both), so leaving early in any way
(``exit``, ``process.exit``, ``exit 0``, a signal) fails, and the answer can neither learn the
nonce nor read or rewrite the tests. Python, JavaScript and bash harnesses are in this
package (``python_main.py``, ``harness.js``, ``harness.sh``); compiled languages are wrapped
by ``compiled.py``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from codekiln_core.errors import ConfigError
from codekiln_core.judge.compiled import wrap_compiled
from codekiln_core.judge.python_tests import rewrite_tests
from codekiln_core.judge.submission import Submission
from codekiln_core.sandbox.languages import SPECS, canonical_name
from codekiln_core.sandbox.result import RunRequest

HERE = Path(__file__).parent
NONCE_FILE = ".judge-nonce"
JUDGE_FILES = ".judge-"
LOCAL_PYTHON = "from codekiln_core.judge.python_main import judge_main\njudge_main()\n"
#: Bash words a proxy must never shadow (the harness's own commands and the shell's).
BASH_RESERVED = frozenset({"alias", "bg", "bind", "break", "builtin", "caller", "case", "cd",
    "command", "compgen", "complete", "compopt", "continue", "coproc", "declare", "dirs",
    "disown", "do", "done", "echo", "elif", "else", "enable", "esac", "eval", "exec", "exit",
    "export", "false", "fc", "fg", "fi", "for", "function", "getopts", "hash", "help", "history",
    "if", "in", "jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf", "pushd",
    "pwd", "read", "readarray", "readonly", "return", "select", "set", "shift", "shopt", "source",
    "suspend", "test", "then", "time", "times", "trap", "true", "type", "typeset", "ulimit",
    "umask", "unalias", "unset", "until", "wait", "while"})
_BASH_FUNCTION = re.compile(
    r"^[ \t]*(?:function[ \t]+([A-Za-z_]\w*)[ \t]*(?:\([ \t]*\))?|([A-Za-z_]\w*)[ \t]*\([ \t]*\))",
    re.MULTILINE)


@dataclass(frozen=True)
class Program:
    """A submission ready for the sandbox; ``marker`` is what a pass prints last (None when
    the sandbox's own completion check or the expected output decides)."""

    request: RunRequest
    marker: str | None


def assemble(submission: Submission, *, inline_python: bool = True) -> Program:
    """The request for ``submission``. ``inline_python=False`` relies on the local sandbox's
    workers, which have the Python harness imported already (and check completion
    themselves)."""
    language = canonical_name(submission.language)
    if language not in SPECS:
        raise ConfigError(f"judge: unknown language {submission.language!r}; known: "
                          f"{', '.join(sorted(SPECS))}")
    clash = sorted(name for name in submission.files if name.startswith(JUDGE_FILES))
    if clash:
        raise ConfigError(f"judge: file name {clash[0]!r} is reserved for the judge; rename "
                          f"files starting with {JUDGE_FILES!r}")
    if submission.expected_stdout is not None:
        return _io_program(submission, language)
    marker = f"judge-done-{secrets.token_hex(16)}"
    if language == "python":
        code, files = _python(submission, inline_python)
        if not inline_python:
            marker = ""
    elif language == "javascript":
        code, files = _javascript(submission)
    elif language == "bash":
        code, files = _bash(submission)
    else:
        code, files = wrap_compiled(language, submission, NONCE_FILE)
    if marker:
        files[NONCE_FILE] = marker + "\n"
    request = RunRequest(language=language, code=code, stdin=submission.stdin,
                         files={**submission.files, **files}, timeout_s=submission.timeout_s,
                         require_completion=True, completion_marker=marker or None)
    return Program(request, marker or None)


def _io_program(submission: Submission, language: str) -> Program:
    """An I/O check runs the answer as it is: its output, not a marker, decides."""
    code = f"{submission.prelude}\n{submission.answer}" if submission.prelude else \
        submission.answer
    request = RunRequest(language=language, code=code, stdin=submission.stdin,
                         files=dict(submission.files), timeout_s=submission.timeout_s,
                         require_completion=False)
    return Program(request, None)


def _python(submission: Submission, inline: bool) -> tuple[str, dict[str, str]]:
    files = {".judge-answer.py": submission.answer,
             ".judge-tests.py": rewrite_tests(submission.tests)}
    if submission.prelude:
        files[".judge-prelude.py"] = submission.prelude
    return (python_runtime() if inline else LOCAL_PYTHON), files


@lru_cache(maxsize=1)
def python_runtime() -> str:
    """The Python harness as one self-contained program (for sandboxes without it)."""
    parts = ["from __future__ import annotations\n"]
    for name in ("python_close.py", "python_values.py", "python_unittest.py", "python_main.py"):
        lines = (HERE / name).read_text(encoding="utf-8").splitlines(keepends=True)
        parts.extend(line for line in lines if not line.rstrip().endswith("# judge: local")
                     and not line.startswith("from __future__"))
    parts.append("\njudge_main()\n")
    return "".join(parts)


def _javascript(submission: Submission) -> tuple[str, dict[str, str]]:
    files = {".judge-answer.js": submission.answer, ".judge-tests.js": submission.tests}
    if submission.prelude:
        files[".judge-prelude.js"] = submission.prelude + "\n"
    return _harness("harness.js"), files


def bash_functions(answer: str) -> list[str]:
    """Functions the answer defines that the tests may call (proxied by the harness)."""
    names = (a or b for a, b in _BASH_FUNCTION.findall(answer))
    return sorted({n for n in names if n not in BASH_RESERVED and not n.startswith("__judge")})


def _bash(submission: Submission) -> tuple[str, dict[str, str]]:
    answer = f"{submission.prelude}\n{submission.answer}" if submission.prelude else \
        submission.answer
    names = bash_functions(answer)
    code = _harness("harness.sh").replace("@FUNCTIONS@", " ".join(names))
    return code, {".judge-answer.sh": answer, ".judge-tests.sh": submission.tests}


@lru_cache(maxsize=4)
def _harness(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")

