"""How each language is compiled and run, and whether its toolchain is on this machine.

Python runs inside the warm worker (see ``child.py``); every other language is compiled (when
it needs it) and exec'd. JVM and Node reserve far more address space than they use, so an
address-space rlimit would kill them at start-up: their memory limit goes through the
runtime's own heap flag instead (``memory_flag``), recorded in the result's isolation list.
Java runs with ``-ea``: benchmark tests use ``assert``, which the JVM skips by default.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field

from codekiln_core.languages import runner


@dataclass(frozen=True)
class LanguageSpec:
    """Argv templates: ``{src}`` is the source file, ``{mem}`` the memory limit in MiB."""

    name: str
    source: str
    run: tuple[str, ...]
    compile: tuple[str, ...] | None = None
    tools: tuple[str, ...] = ()
    rlimit_as: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)


SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "main.py", run=("{python}", "-I", "{src}")),
        LanguageSpec(
            "c", "main.c", run=("./main",), tools=("gcc",),
            compile=("gcc", "-O2", "-std=gnu17", "-o", "main", "{src}", "-lm"),
        ),
        LanguageSpec(
            "cpp", "main.cpp", run=("./main",), tools=("g++",),
            compile=("g++", "-O2", "-std=gnu++17", "-o", "main", "{src}"),
        ),
        LanguageSpec(
            "java", "Main.java", tools=("javac", "java"), rlimit_as=False,
            compile=("javac", "-J-Xmx512m", "-J-XX:+UseSerialGC", "-encoding", "UTF-8", "{src}"),
            run=("java", "-ea", "-Xmx{mem}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                 "-Xshare:auto", "-cp", ".", "{main_class}"),
        ),
        LanguageSpec(
            "javascript", "main.js", tools=("node",), rlimit_as=False,
            run=("node", "--max-old-space-size={mem}", "{src}"),
        ),
        LanguageSpec(
            "go", "main.go", run=("./main",), tools=("go",), rlimit_as=False,
            compile=("go", "build", "-o", "main", "{src}"),
            extra_env={"GOCACHE": "/tmp/.gocache", "GOPATH": "/tmp/.gopath", "GO111MODULE": "off"},
        ),
        LanguageSpec(
            "rust", "main.rs", run=("./main",), tools=("rustc",),
            compile=("rustc", "-O", "--edition", "2021", "-o", "main", "{src}"),
        ),
        LanguageSpec("bash", "main.sh", run=("bash", "{src}"), tools=("bash",)),
    )
}

_JAVA_CLASS = re.compile(r"public\s+(?:final\s+|abstract\s+)*class\s+([A-Za-z_]\w*)")


def canonical_name(language: str) -> str:
    """``"C++"`` -> ``"cpp"`` (the runner in :mod:`codekiln_core.languages`); unknown names
    come back lower-cased and unchanged."""
    return runner(language)


def java_main_class(code: str) -> str:
    """The public class name, which javac requires to match the file name."""
    match = _JAVA_CLASS.search(code)
    return match.group(1) if match else "Main"


def source_name(spec: LanguageSpec, code: str) -> str:
    if spec.name == "java":
        return f"{java_main_class(code)}.java"
    return spec.source


def _rust_compiler() -> str | None:
    """The toolchain's real ``rustc``: the rustup proxy needs a writable RUSTUP_HOME."""
    import subprocess  # not at module level: workers import this module and must stay lean

    proxy = shutil.which("rustc")
    if proxy is None:
        return None
    try:
        sysroot = subprocess.run(
            [proxy, "--print", "sysroot"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    real = os.path.join(sysroot, "bin", "rustc")
    return real if os.access(real, os.X_OK) else None


def resolve_tools(python: str) -> dict[str, str | None]:
    """Absolute paths of every tool a spec names (None when missing), found with the host PATH."""
    tools: dict[str, str | None] = {"python": python if os.access(python, os.X_OK) else None}
    for spec in SPECS.values():
        for tool in spec.tools:
            if tool not in tools:
                tools[tool] = _rust_compiler() if tool == "rustc" else shutil.which(tool)
    return tools


def skip_reasons(tools: dict[str, str | None]) -> dict[str, str | None]:
    """language -> None when runnable here, else why it is skipped."""
    reasons: dict[str, str | None] = {}
    for name, spec in SPECS.items():
        needed = ("python",) if name == "python" else spec.tools
        missing = [tool for tool in needed if tools.get(tool) is None]
        reasons[name] = (
            None if not missing else f"toolchain not found on PATH: {', '.join(missing)}"
        )
    return reasons


def render_argv(
    template: tuple[str, ...], tools: dict[str, str | None], values: dict[str, str]
) -> list[str]:
    """Fill a template; its first word is swapped for the tool's absolute path."""
    argv = [part.format(**values) for part in template]
    resolved = tools.get(argv[0])
    if resolved:
        argv[0] = resolved
    return argv
