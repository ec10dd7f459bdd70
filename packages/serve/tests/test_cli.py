"""``codekiln serve``: mounted by the plugin, engines listed, bad input is one line, and the
real command (a subprocess, as users run it) answers the openai client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import CodekilnError
from codekiln_core.net import wait_healthy
from codekiln_serve.testing import free_port


def test_engines_are_registered_by_the_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "list", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)["plugins"]
    mine = next(p for p in plugins if p["distribution"] == "codekiln-serve")
    assert {"codekiln_register_commands", "codekiln_register_engines"} <= set(mine["hooks"])
    text = json.dumps(mine)
    assert all(name in text for name in ("transformers", "vllm", "openai-http"))


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--engine", "--host", "--port", "--api-key", "--max-queue", "--max-batch",
                   "--fim-layout", "--dtype", "--defaults", "--no-lineage"):
        assert option in out


def test_bad_model_and_bad_option_are_one_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(tmp_path / "missing"), "--no-lineage"]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing" in err and "models:/" in err and len(err.splitlines()) == 1
    assert main(["serve", str(tmp_path), "--fim-layout", "mps", "--no-lineage"]) == 2
    err = capsys.readouterr().err.strip()
    assert "fim_layout" in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def cli_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory,
               ) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("cli-serve")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
           "CODEKILN_ARTIFACT_ROOT": str(workdir / "artifacts"),
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codekiln_core", "serve", str(tiny_model_dir), "--port",
         str(port), "--engine", "transformers", "--threads", "1"],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(base, exit_code=proc.poll, name="codekiln serve", timeout_s=240)
        except CodekilnError:
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "") from None
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_codekiln_serve_answers_the_openai_client(cli_server: str, tiny_model_dir: Path,
                                                  ) -> None:
    from codekiln_core.clients import openai_client

    client = openai_client(cli_server, max_retries=0)
    name = client.models.list().data[0].id
    assert name == tiny_model_dir.name
    plain = client.completions.create(model=name, prompt="def add(a, b):", max_tokens=5)
    fim = client.completions.create(model=name, prompt="def add(a, b):\n    ",
                                    suffix="\n\nprint(add(1, 2))", max_tokens=5)
    assert plain.choices[0].finish_reason and fim.choices[0].finish_reason
    assert fim.usage.prompt_tokens > plain.usage.prompt_tokens  # the suffix is in the prompt
    chat = client.chat.completions.create(model=name, max_tokens=5,
                                          messages=[{"role": "user", "content": "hi"}])
    assert chat.choices[0].message.role == "assistant"
    streamed: list[Any] = list(client.chat.completions.create(
        model=name, max_tokens=5, stream=True, messages=[{"role": "user", "content": "hi"}]))
    assert streamed[-1].choices[0].finish_reason in ("stop", "length")
