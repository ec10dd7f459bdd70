"""The one OpenAI-compatible client: labeling teachers, eval generation, serving pass-through
and instruction synthesis all talk to endpoints through the official ``openai`` package, so
retries with backoff, timeouts and ``Retry-After`` handling are the library's, not ours.

``openai`` is imported inside the function: importing core stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import openai

#: Environment variable read when no key is given; a local server usually needs none.
API_KEY_ENV = "CODEKILN_API_KEY"


def normalize_base_url(base_url: str) -> str:
    """``http://host:8000`` and ``http://host:8000/v1/`` both become ``http://host:8000/v1``."""
    url = base_url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def openai_client(
    base_url: str,
    *,
    api_key: str | None = None,
    timeout_s: float = 60.0,
    max_retries: int = 3,
) -> openai.OpenAI:
    """An ``openai.OpenAI`` client for any OpenAI-compatible server.

    The key comes from ``api_key``, then ``CODEKILN_API_KEY``, then ``OPENAI_API_KEY``; servers
    that check none get a placeholder (the library insists on a non-empty key).
    """
    from codekiln_core.extras import require

    require("openai", "an OpenAI-compatible endpoint")
    import openai

    key = api_key or os.environ.get(API_KEY_ENV) or os.environ.get("OPENAI_API_KEY") or "none"
    return openai.OpenAI(base_url=normalize_base_url(base_url), api_key=key,
                         timeout=timeout_s, max_retries=max_retries)


def async_openai_client(
    base_url: str,
    *,
    api_key: str | None = None,
    timeout_s: float = 60.0,
    max_retries: int = 3,
) -> openai.AsyncOpenAI:
    """The asyncio twin of :func:`openai_client` (high-concurrency labeling, pass-through)."""
    from codekiln_core.extras import require

    require("openai", "an OpenAI-compatible endpoint")
    import openai

    key = api_key or os.environ.get(API_KEY_ENV) or os.environ.get("OPENAI_API_KEY") or "none"
    return openai.AsyncOpenAI(base_url=normalize_base_url(base_url), api_key=key,
                              timeout=timeout_s, max_retries=max_retries)
