"""A third-party plugin needs only the light part of codekiln-core: the example filter
plugin, installed alone with its locked dependencies in a fresh environment, passes its own
tests there, and that environment has no MLflow, matplotlib, openai or benchmark data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "plugins" / "codekiln-filter-example"
HEAVY = ("mlflow", "matplotlib", "openai", "codekiln_benchmark_data", "torch", "numpy")


def run(*argv: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding codekiln-core, the example plugin and their locked
    dependencies (the plugin's dev group included), nothing else; returns its python."""
    uv = shutil.which("uv")
    assert uv, "uv is the installer codekiln prescribes; put it on PATH"
    root = tmp_path_factory.mktemp("plugin-alone")
    requirements = root / "requirements.txt"
    run(uv, "export", "--frozen", "--package", "codekiln-filter-example", "--no-hashes",
        "--no-emit-workspace", "--no-header", "-o", requirements)
    run(uv, "venv", "--quiet", "--python", sys.executable, root / "venv")
    python = root / "venv" / "bin" / "python"
    run(uv, "pip", "install", "--quiet", "--python", python, "-r", requirements,
        "-e", REPO / "packages" / "core", "-e", PLUGIN)
    return python


@pytest.mark.slow
def test_the_example_plugin_installs_without_the_heavy_parts(plugin_env: Path) -> None:
    probe = ("import importlib.util as u\n"
             f"print(sorted(m for m in {HEAVY!r} if u.find_spec(m)))")
    assert run(plugin_env, "-c", probe).stdout.strip() == "[]"


@pytest.mark.slow
def test_the_example_plugins_tests_pass_there(plugin_env: Path) -> None:
    done = run(plugin_env, "-m", "pytest", PLUGIN / "tests", "-n", "0", "-q",
               "-p", "no:cacheprovider")
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.slow
def test_the_cli_works_there_and_names_the_missing_extra(plugin_env: Path,
                                                         tmp_path: Path) -> None:
    codekiln = plugin_env.parent / "codekiln"
    listed = run(codekiln, "plugins", "list", "--json", cwd=tmp_path).stdout
    assert '"no-secrets"' in listed and '"filter-example"' in listed
    import os

    server = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}  # a store to open
    done = subprocess.run([str(codekiln), "lineage", "show", "models:/x/1"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=server)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: lineage (the MLflow store) needs mlflow, which is not installed; install "
        "codekiln-core[lineage] (pip install 'codekiln-core[lineage]') (or pass --no-lineage)"]
