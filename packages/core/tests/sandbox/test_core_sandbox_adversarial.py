"""Hostile programs: each is contained, classified, and leaves the host as it was."""

from __future__ import annotations

import os
import socket
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codekiln_core.sandbox import LocalSandbox, RunRequest, SandboxLimits, Verdict
from codekiln_core.sandbox.probe import import_paths_under_tmp

pytestmark = pytest.mark.sandbox


def py(code: str, **kwargs: object) -> RunRequest:
    return RunRequest(language="python", code=textwrap.dedent(code), **kwargs)  # type: ignore[arg-type]


def test_infinite_loop_times_out_and_is_killed(sandbox: LocalSandbox) -> None:
    result = sandbox.run(py("while True:\n    pass", timeout_s=1))
    assert result.verdict is Verdict.TIMEOUT
    assert result.detail == "wall-clock timeout"
    assert sandbox.run(py("print('next')")).stdout == "next\n"


def test_cpu_time_limit_is_reported_as_timeout() -> None:
    limits = SandboxLimits(timeout_s=20, cpu_s=1)
    with LocalSandbox(workers=1, limits=limits) as sb:
        result = sb.run(py("while True:\n    pass"))
    assert result.verdict is Verdict.TIMEOUT
    assert "CPU-time limit" in result.detail


def test_sleeping_children_do_not_outlive_the_run(sandbox: LocalSandbox, tmp_path: Path) -> None:
    code = """
    import os, subprocess
    subprocess.Popen(["sleep", "300"], start_new_session=True)   # escapes the process group
    print(os.getuid())
    """
    result = sandbox.run(py(code))
    assert result.verdict is Verdict.PASSED, result.stderr
    uid = int(result.stdout)
    leftovers = [pid for pid in os.listdir("/proc") if pid.isdigit() and _uid_of(pid) == uid]
    assert leftovers == []


def _uid_of(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


@pytest.mark.skipif(os.geteuid() != 0, reason="process cap relies on a per-run uid (root only)")
def test_fork_bomb_is_capped_and_cleaned_up() -> None:
    bomb = """
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
    """
    with LocalSandbox(workers=1, limits=SandboxLimits(timeout_s=2, max_processes=16)) as sb:
        result = sb.run(py(bomb))
        probe = sb.run(py("import os; print(os.getuid())"))
    assert result.verdict is Verdict.TIMEOUT
    uid = int(probe.stdout)
    assert [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid] == []


def test_memory_hog_is_a_runtime_error(sandbox: LocalSandbox) -> None:
    result = sandbox.run(py("blocks = []\nwhile True:\n    blocks.append(bytearray(64 * 2**20))"))
    assert result.verdict is Verdict.RUNTIME_ERROR
    assert "memory limit" in result.detail


def test_huge_output_is_truncated(sandbox: LocalSandbox) -> None:
    result = sandbox.run(py("import sys\nfor _ in range(2000):\n    sys.stdout.write('x' * 10000)"))
    assert result.verdict is Verdict.PASSED
    assert result.truncated
    assert len(result.stdout) == sandbox.limits.max_output_bytes
    assert "output truncated" in result.detail


def test_endless_output_times_out_truncated(sandbox: LocalSandbox) -> None:
    result = sandbox.run(py("while True:\n    print('y' * 1000)", timeout_s=1))
    assert result.verdict is Verdict.TIMEOUT
    assert result.truncated


def test_file_size_limit(sandbox: LocalSandbox) -> None:
    code = "with open('big', 'wb') as fh:\n    fh.write(b'0' * (64 * 2**20))"
    result = sandbox.run(py(code))
    assert result.verdict is Verdict.RUNTIME_ERROR
    assert "file-size limit" in result.detail


@pytest.fixture
def host_victim() -> Iterator[Path]:
    """A file in a directory anyone may write (so only the sandbox's isolation protects it)."""
    folder = Path("/var/tmp") / f"codekiln-victim-{uuid.uuid4().hex}"
    folder.mkdir()
    folder.chmod(0o777)
    victim = folder / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o666)
    yield victim
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


def test_cannot_write_or_delete_outside_the_work_dir(
    sandbox: LocalSandbox, host_victim: Path, tmp_path: Path
) -> None:
    targets = [str(host_victim.parent / "new.txt"), str(tmp_path / "new.txt"),
               "/etc/codekiln-escape", str(Path.cwd() / "codekiln-escape")]
    code = f"""
    import os
    for target in {targets!r}:
        try:
            open(target, "w").write("pwned")
            print("wrote", target)
        except OSError as exc:
            print("denied", target, type(exc).__name__)
    for action in (lambda: os.remove({str(host_victim)!r}),
                   lambda: open({str(host_victim)!r}, "w").write("pwned")):
        try:
            action()
            print("touched victim")
        except OSError as exc:
            print("denied victim", type(exc).__name__)
    open("inside.txt", "w").write("fine")
    print(open("inside.txt").read())
    """
    result = sandbox.run(py(code))
    assert result.verdict is Verdict.PASSED, result.stderr
    assert "touched victim" not in result.stdout
    assert "fine" in result.stdout
    assert host_victim.read_text() == "keep me"
    for target in targets:
        assert not Path(target).exists(), target


def test_parent_environment_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    monkeypatch.setenv("CODEKILN_FAKE_SECRET", secret)
    code = f"""
    import os
    print(dict(os.environ))
    for path in ("/proc/{os.getpid()}/environ", "/proc/{os.getppid()}/environ",
                 "/proc/self/environ", "/proc/" + str(os.getppid()) + "/environ"):
        try:
            print(open(path, "rb").read())
        except OSError as exc:
            print("denied", path, type(exc).__name__)
    """
    with LocalSandbox(workers=1) as sb:
        result = sb.run(py(code))
    assert result.verdict is Verdict.PASSED, result.stderr
    assert secret not in result.stdout
    assert "CODEKILN_FAKE_SECRET" not in result.stdout
    assert f"denied /proc/{os.getpid()}/environ" in result.stdout


def test_no_network(sandbox: LocalSandbox) -> None:
    if "netns" not in sandbox.isolation:
        pytest.skip(f"no network namespace on this kernel: {sandbox.rejected}")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = f"""
    import socket
    for address in (("127.0.0.1", {port}), ("1.1.1.1", 53), ("pypi.org", 443)):
        try:
            socket.create_connection(address, timeout=2).close()
            print("connected", address)
        except OSError as exc:
            print("blocked", address, type(exc).__name__)
    """
    try:
        result = sandbox.run(py(code))
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert result.verdict is Verdict.PASSED, result.stderr
    assert "connected" not in result.stdout
    assert result.stdout.count("blocked") == 3


def test_cannot_kill_the_worker_or_the_test_process(sandbox: LocalSandbox) -> None:
    code = f"""
    import os, signal
    for pid in (os.getppid(), {os.getpid()}, 1):
        try:
            os.kill(pid, signal.SIGKILL)
            print("killed", pid)
        except OSError as exc:
            print("denied", pid, type(exc).__name__)
    """
    result = sandbox.run(py(code))
    assert result.verdict is Verdict.PASSED, result.stderr
    assert "killed" not in result.stdout
    after = sandbox.run_many([py("print('alive')")] * 4)
    assert [r.stdout for r in after] == ["alive\n"] * 4


@pytest.mark.parametrize(
    "cheat",
    [
        "import sys\nsys.exit(0)",
        "exit()",
        "quit(0)",
        "import os\nos._exit(0)",
        "raise SystemExit",
        "import builtins\nbuiltins.AssertionError = type('AssertionError', (Exception,), {})",
        "import builtins\nbuiltins.__dict__['AssertionError'] = SystemExit",
        "import sys\nsys.excepthook = lambda *a: None",
        "import os, sys\nos._exit = lambda *a: None\nsys.exit = lambda *a: None",
        "import atexit, os\natexit.register(lambda: os._exit(0))",
        "import sys\nclass Quiet:\n    def write(self, s): return len(s)\n"
        "    def flush(self): pass\n"
        "sys.stderr = Quiet()",
    ],
)
def test_faked_passes_are_not_passed(sandbox: LocalSandbox, cheat: str) -> None:
    program = f"{cheat}\n\ndef check(f):\n    assert f(2) == 5\n\ncheck(lambda x: x)\n"
    result = sandbox.run(py(program))
    assert result.verdict is not Verdict.PASSED, (cheat, result.detail)
    assert result.verdict is Verdict.FAILED, (cheat, result.detail, result.stderr)


def test_runs_of_one_worker_share_no_files() -> None:
    """A worker reuses its /tmp and /dev/shm: what one run leaves there must be gone for the
    next run (files, hidden files, directories, files of a still-running child)."""
    leave = textwrap.dedent("""
        import os, subprocess
        os.makedirs("d/e", exist_ok=True)
        for path in ("left.txt", ".hidden", "d/e/deep.txt", "/dev/shm/shm.txt"):
            open(path, "w").write("x")
        subprocess.Popen(["sleep", "30"])
    """)
    look = textwrap.dedent("""
        import os
        print(sorted(os.listdir(".")), sorted(os.listdir("/dev/shm")))
    """)
    with LocalSandbox(workers=1, limits=SandboxLimits(timeout_s=5)) as sb:
        first = sb.run(py(leave))
        assert first.verdict is Verdict.PASSED, first.stderr
        second = sb.run(py(look))
    assert second.verdict is Verdict.PASSED, second.stderr
    # A checkout under /tmp keeps its import paths, bound back read-only (root-owned, so a
    # run cannot write beside them); nothing else survives from the first run.
    kept = sorted({path.split("/")[2] for path in import_paths_under_tmp()})
    assert second.stdout.strip() == f"{sorted(['main.py', *kept])} []"
