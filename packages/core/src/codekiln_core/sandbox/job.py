"""One run inside a worker: fresh work dir, optional compile step, run, verdict, clean-up."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass

from codekiln_core.sandbox import isolation, languages
from codekiln_core.sandbox.child import ChildSetup, exec_target, python_target
from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.process import Outcome, run_forked
from codekiln_core.sandbox.result import RunRequest, RunResult, Verdict, sandbox_error
from codekiln_core.sandbox.verdict import classify_program, classify_python

_PATH = "/usr/local/bin:/usr/bin:/bin"
#: With the worker in its own mount layout, every run of it uses these (emptied after each run).
SHARED_WORKDIR = "/tmp"
SHARED_SHM = "/dev/shm"


@dataclass(frozen=True)
class WorkerContext:
    """What a worker decided at start-up and reuses for every run."""

    plan: isolation.IsolationPlan
    tools: dict[str, str | None]
    base_dir: str


def _safe_relpath(name: str) -> str:
    norm = os.path.normpath(name)
    if os.path.isabs(norm) or norm == ".." or norm.startswith("../") or norm in ("", "."):
        raise ValueError(f"file name {name!r} must be a relative path inside the work dir")
    return norm


def _populate(workdir: str, files: dict[str, str], uid: int | None,
              keep: frozenset[str] = frozenset()) -> None:
    for name, text in files.items():
        path = os.path.join(workdir, _safe_relpath(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    if uid is not None:
        for root, dirs, names in os.walk(workdir):
            if root == workdir:  # never walk into read-only import paths bound back over /tmp
                dirs[:] = [d for d in dirs if d not in keep]
            for entry in (*dirs, *names):
                os.chown(os.path.join(root, entry), uid, uid)


def _env(ctx: WorkerContext, workdir: str, spec: languages.LanguageSpec) -> dict[str, str]:
    home = "/tmp" if ctx.plan.mountns else workdir
    env = {"PATH": _PATH, "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(spec.extra_env)
    return env


def _setup(ctx: WorkerContext, workdir: str, spec: languages.LanguageSpec, *, cpu_s: int,
           memory_mb: int, processes: int, file_mb: int) -> ChildSetup:
    rlimits = isolation.Rlimits(
        cpu_s=cpu_s,
        address_space_mb=memory_mb if spec.rlimit_as else None,
        processes=processes,
        file_mb=file_mb,
    )
    return ChildSetup(ctx.plan, workdir, rlimits, _env(ctx, workdir, spec), shm_mb=file_mb)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def run_job(ctx: WorkerContext, request: RunRequest, limits: SandboxLimits) -> RunResult:
    """Never raises for bad programs; infrastructure faults become ``sandbox_error``."""
    language = languages.canonical_name(request.language)
    spec = languages.SPECS.get(language)
    names = ctx.plan.names
    if spec is None:
        return sandbox_error(f"unknown language {request.language!r}; known: "
                             f"{', '.join(sorted(languages.SPECS))}", names)
    reason = languages.skip_reasons(ctx.tools)[language]
    if reason:
        return sandbox_error(f"{language}: {reason}", names)
    shared = ctx.plan.worker_mountns
    workdir = SHARED_WORKDIR if shared else tempfile.mkdtemp(prefix="run-", dir=ctx.base_dir)
    try:
        uid = ctx.plan.uid
        if uid is not None and not shared:
            os.chown(workdir, uid, uid)
        source = languages.source_name(spec, request.code)
        try:
            _populate(workdir, {**request.files, source: request.code}, uid,
                      _kept_tmp_entries(ctx.plan) if shared else frozenset())
        except (ValueError, OSError) as exc:
            return sandbox_error(f"could not write the program files: {exc}", names)
        return _compile_and_run(ctx, request, limits, spec, workdir, source)
    finally:
        if shared:
            empty_dir(SHARED_WORKDIR, keep=_kept_tmp_entries(ctx.plan))
            empty_dir(SHARED_SHM)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _kept_tmp_entries(plan: isolation.IsolationPlan) -> frozenset[str]:
    """Top-level names under /tmp that hold bound-back import paths (``/tmp/<name>/...``)."""
    return frozenset(path.split("/")[2] for path in plan.tmp_expose)


def empty_dir(path: str, keep: set[str] | frozenset[str] = frozenset()) -> None:
    """Remove everything inside ``path`` (a worker's reused scratch dir), keeping the dir and
    the top-level entries in ``keep`` (read-only import paths bound back over /tmp)."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name in keep:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _compile_and_run(ctx: WorkerContext, request: RunRequest, limits: SandboxLimits,
                     spec: languages.LanguageSpec, workdir: str, source: str) -> RunResult:
    names = list(ctx.plan.names)
    if not spec.rlimit_as:
        names.append("heap_flag")
    values = {"src": source, "mem": str(limits.memory_mb), "python": ctx.tools["python"] or "",
              "main_class": source.removesuffix(".java")}
    compile_output = ""
    if spec.compile is not None:
        setup = _setup(ctx, workdir, spec, cpu_s=int(limits.compile_timeout_s) + 1,
                       memory_mb=limits.compile_memory_mb,
                       processes=max(limits.max_processes, 64),
                       file_mb=max(limits.max_file_mb, 256))
        argv = languages.render_argv(spec.compile, ctx.tools, values)
        built = run_forked(exec_target(setup, argv), stdin=None,
                           timeout_s=limits.compile_timeout_s,
                           max_output=limits.max_output_bytes, uid=ctx.plan.uid)
        compile_output = _text(built.stdout + built.stderr)
        if built.status:
            return sandbox_error(f"compile step setup failed: {_text(built.status)}", names)
        if built.timed_out or built.exit_code != 0:
            why = "compile timed out" if built.timed_out else f"compiler exit {built.exit_code}"
            return RunResult(Verdict.COMPILE_ERROR, built.exit_code, "", compile_output,
                             built.duration_s, built.truncated, names, why, compile_output)
    timeout = request.timeout_s or limits.timeout_s
    setup = _setup(ctx, workdir, spec, cpu_s=limits.cpu_limit_s(timeout),
                   memory_mb=limits.memory_mb, processes=limits.max_processes,
                   file_mb=limits.max_file_mb)
    stdin = request.stdin.encode() if request.stdin is not None else None
    nonce = secrets.token_hex(16)
    if spec.name == "python":
        target = python_target(setup, request.code, nonce)
    else:
        target = exec_target(setup, languages.render_argv(spec.run, ctx.tools, values))
    outcome = run_forked(target, stdin=stdin, timeout_s=timeout,
                         max_output=limits.max_output_bytes, uid=ctx.plan.uid)
    return _result(outcome, request, spec.name, nonce, names, compile_output)


def _result(outcome: Outcome, request: RunRequest, language: str, nonce: str,
            names: list[str], compile_output: str) -> RunResult:
    stdout = _text(outcome.stdout)
    marker_seen: bool | None = None
    if request.completion_marker:
        marker_seen = request.completion_marker in stdout
        stdout = stdout.replace(request.completion_marker + "\n", "").replace(
            request.completion_marker, "")
    if language == "python":
        verdict, detail = classify_python(outcome, nonce, request.require_completion)
        if verdict is Verdict.PASSED and marker_seen is False:
            verdict, detail = Verdict.FAILED, "exited before printing the completion marker"
    else:
        verdict, detail = classify_program(outcome, language, marker_seen)
    if outcome.truncated:
        detail = f"{detail}; output truncated" if detail else "output truncated"
    return RunResult(verdict, outcome.exit_code if outcome.signal is None else -outcome.signal,
                     stdout, _text(outcome.stderr), round(outcome.duration_s, 6),
                     outcome.truncated, names, detail, compile_output)
