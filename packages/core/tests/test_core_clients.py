"""The shared OpenAI-compatible client is configured, not re-implemented."""

from __future__ import annotations

import pytest

from codekiln_core.clients import normalize_base_url, openai_client


@pytest.mark.parametrize("url", ["http://h:8000", "http://h:8000/", "http://h:8000/v1",
                                 "http://h:8000/v1/"])
def test_base_url_normalized(url: str) -> None:
    assert normalize_base_url(url) == "http://h:8000/v1"


def test_client_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEKILN_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = openai_client("http://127.0.0.1:1", timeout_s=5, max_retries=7)
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:1/v1"
    assert client.max_retries == 7
    assert client.api_key == "none"
    monkeypatch.setenv("CODEKILN_API_KEY", "secret")
    assert openai_client("http://127.0.0.1:1").api_key == "secret"
