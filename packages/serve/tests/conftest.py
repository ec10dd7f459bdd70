"""Session fixtures: one tiny model directory and one real server for all serve tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codekiln_serve.testing import ServerThread, build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("serve") / "tiny-seed-coder")


@pytest.fixture(scope="session")
def server(tiny_model_dir: Path) -> Iterator[ServerThread]:
    from codekiln_serve.settings import ServeSettings

    settings = ServeSettings(model=str(tiny_model_dir), engine="transformers", port=0,
                             lineage=False, threads=1, max_batch=32, max_queue=512)
    with ServerThread(settings) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server: ServerThread):  # type: ignore[no-untyped-def]
    from codekiln_core.clients import openai_client

    return openai_client(server.base_url, max_retries=0, timeout_s=120)


@pytest.fixture(scope="session")
def model_name(server: ServerThread) -> str:
    return server.built.names[0]
