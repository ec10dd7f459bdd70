"""Python runs: every verdict, stdin/files, order of run_many, and what isolation reports."""

from __future__ import annotations

import pytest

from codekiln_core.sandbox import LocalSandbox, RunRequest, Verdict

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("def add(a, b):\n    return a + b\nassert add(2, 3) == 5\nprint('ok')", Verdict.PASSED),
        ("def add(a, b):\n    return a - b\nassert add(2, 3) == 5", Verdict.FAILED),
        ("import sys\nsys.exit(3)", Verdict.FAILED),
        ("raise KeyError('boom')", Verdict.RUNTIME_ERROR),
        ("[][1]", Verdict.RUNTIME_ERROR),
        ("def broken(:\n    pass", Verdict.COMPILE_ERROR),
        ("while True:\n    pass", Verdict.TIMEOUT),
    ],
)
def test_python_verdicts(sandbox: LocalSandbox, code: str, verdict: Verdict) -> None:
    result = sandbox.run(RunRequest(language="python", code=code, timeout_s=2))
    assert result.verdict is verdict, (result.detail, result.stderr)


def test_stdout_stdin_and_files_reach_the_program(sandbox: LocalSandbox) -> None:
    code = "import sys\ndata = open('data/in.txt').read()\nprint(sys.stdin.read().upper(), data)"
    result = sandbox.run(RunRequest(language="python", code=code, stdin="hello",
                                    files={"data/in.txt": "file-text"}))
    assert result.verdict is Verdict.PASSED, result.stderr
    assert result.stdout == "HELLO file-text\n"
    assert result.exit_code == 0
    assert result.duration_s > 0


def test_stdin_is_empty_when_not_given(sandbox: LocalSandbox) -> None:
    code = "import sys\nprint(repr(sys.stdin.read()))"
    result = sandbox.run(RunRequest(language="python", code=code))
    assert result.stdout == "''\n"


def test_helper_modules_in_files_are_importable(sandbox: LocalSandbox) -> None:
    result = sandbox.run(RunRequest(language="python", code="import helper\nassert helper.X == 7",
                                    files={"helper.py": "X = 7\n"}))
    assert result.verdict is Verdict.PASSED, result.stderr


def test_traceback_points_at_the_program_not_the_runner(sandbox: LocalSandbox) -> None:
    result = sandbox.run(RunRequest(language="python", code="x = 1\nassert x == 2, 'x is 1'"))
    assert result.verdict is Verdict.FAILED
    assert 'main.py", line 2' in result.stderr
    assert "child.py" not in result.stderr
    assert "AssertionError: x is 1" in result.stderr


def test_early_clean_exit_passes_only_without_require_completion(sandbox: LocalSandbox) -> None:
    code = "import sys\nsys.exit(0)\nassert False"
    assert sandbox.run(RunRequest("python", code)).verdict is Verdict.FAILED
    plain = sandbox.run(RunRequest("python", code, require_completion=False))
    assert plain.verdict is Verdict.PASSED


def test_completion_marker_is_required_and_stripped(sandbox: LocalSandbox) -> None:
    code = "print('out')\nprint('MARK')"
    done = sandbox.run(RunRequest("python", code, completion_marker="MARK"))
    assert done.verdict is Verdict.PASSED
    assert done.stdout == "out\n"
    missing = sandbox.run(RunRequest("python", "print('out')", completion_marker="MARK"))
    assert missing.verdict is Verdict.FAILED
    assert "completion marker" in missing.detail


def test_run_many_keeps_request_order(sandbox: LocalSandbox) -> None:
    requests = [RunRequest("python", f"print({i})" if i % 3 else "assert False") for i in range(12)]
    results = sandbox.run_many(requests)
    assert [r.stdout.strip() for r in results if r.verdict is Verdict.PASSED] == [
        str(i) for i in range(12) if i % 3
    ]
    assert [r.verdict for r in results][::3] == [Verdict.FAILED] * 4


def test_results_report_the_isolation_applied(sandbox: LocalSandbox) -> None:
    result = sandbox.run(RunRequest("python", "pass"))
    def kinds(names: list[str]) -> list[str]:  # each worker has its own uid: setuid:<uid>
        return [name.split(":")[0] for name in names]

    assert kinds(result.isolation) == kinds(sandbox.isolation)
    for name in ("process_group", "rlimits", "tmpdir", "env_scrubbed"):
        assert name in result.isolation


def test_unknown_language_is_a_sandbox_error(sandbox: LocalSandbox) -> None:
    result = sandbox.run(RunRequest("cobol", "DISPLAY 'HI'."))
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert "unknown language 'cobol'" in result.detail


def test_file_names_may_not_escape_the_work_dir(sandbox: LocalSandbox) -> None:
    result = sandbox.run(RunRequest("python", "pass", files={"../../escape.txt": "x"}))
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert "relative path inside the work dir" in result.detail


def test_worker_image_stays_lean(sandbox: LocalSandbox) -> None:
    """Each run forks the worker: modules with fork handlers or big metadata must not be in it
    (they cost every run), while the preloaded test-time modules must be."""
    code = ("import sys\n"
            "heavy = {'threading', 'importlib.metadata', 'ssl', 'urllib.request', 'subprocess'}\n"
            "assert not heavy & set(sys.modules), sorted(heavy & set(sys.modules))\n"
            "assert {'math', 're', 'collections'} <= set(sys.modules)\n")
    result = sandbox.run(RunRequest("python", code))
    assert result.verdict is Verdict.PASSED, result.stderr
