"""ASGI middleware in front of every route: the API key, the request-size bound, and text
that cannot be encoded.

The key is checked on every route but ``/health`` (so probes need no secret); a body over
the bound is refused with 413 before the route (or pydantic) ever sees it. JSON may escape a
lone surrogate (``"a\\ud800b"``), which Python decodes but no tokenizer can encode: such a
body gets a 400 naming the field, checked only when the raw bytes hold a surrogate escape.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from typing import Any

from codekiln_serve.api.errors import error_body_for

Scope = dict[str, Any]
OPEN_PATHS = frozenset({"/health"})
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def unencodable_text(body: bytes) -> tuple[str, str] | None:
    """(field, one-line message) for text no tokenizer can encode, else None."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "body", f"the request body is not valid UTF-8 (byte {exc.start}); send UTF-8 JSON"
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # the route's own parser reports malformed JSON
    return _lone_surrogate(data, "")


def _lone_surrogate(value: Any, where: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        for i, char in enumerate(value):
            if 0xD800 <= ord(char) <= 0xDFFF:
                return where, (f"{where or 'body'}: text holds a lone surrogate "
                               f"(U+{ord(char):04X}) at character {i}, which is not valid "
                               "Unicode; send text that encodes as UTF-8")
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            found = _lone_surrogate(key, path) or _lone_surrogate(item, path)
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, f"{where}[{i}]")
            if found:
                return found
    return None


async def _send_error(send: Any, path: str, status: int, message: str, code: str,
                      headers: list[tuple[bytes, bytes]] | None = None,
                      param: str | None = None) -> None:
    payload = json.dumps(error_body_for(path, status, message, param, code)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


class GuardMiddleware:
    def __init__(self, app: Any, *, api_key: str | None, max_body_bytes: int,
                 on_response: Callable[[str, int], None] | None = None) -> None:
        self.app, self.api_key, self.max_body = app, api_key, max_body_bytes
        self.on_response = on_response

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_counted(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._guarded(scope, receive, send_counted)
        finally:
            if self.on_response is not None:  # the router filled scope["route"] in place
                route = getattr(scope.get("route"), "path", "unmatched")
                self.on_response(route, status)

    async def _guarded(self, scope: Scope, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if self.api_key and path not in OPEN_PATHS and not self._authorized(scope):
            await _send_error(send, path, 401, "missing or wrong API key; send the header "
                              "'Authorization: Bearer <key>'", "invalid_api_key",
                              [(b"www-authenticate", b"Bearer")])
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await _send_error(send, path, 413, self._too_large(int(declared)),
                              "request_too_large")
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            body, overflow = await self._read_body(receive)
            if overflow:
                await _send_error(send, path, 413, self._too_large(None), "request_too_large")
                return
            bad = unencodable_text(body)
            if bad is not None:
                field, message = bad
                await _send_error(send, path, 400, message, "unencodable_text",
                                  param=re.split(r"[.\[]", field)[0] or None)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _too_large(self, size: int | None) -> str:
        got = f"{size} bytes" if size is not None else "more"
        return f"request body is {got}; the limit is {self.max_body} bytes (--max-body-bytes)"

    def _authorized(self, scope: Scope) -> bool:
        assert self.api_key is not None
        for name, value in scope.get("headers") or []:
            if name == b"authorization":
                given = value.decode("latin-1")
                expected = f"Bearer {self.api_key}"
                return hmac.compare_digest(given.encode(), expected.encode())
        return False

    async def _read_body(self, receive: Any) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return dict(await receive())  # later calls: disconnect notifications

    return replay
