"""OpenAI's error JSON (``{"error": {message, type, param, code}}``) for every refusal, and
Ollama's (``{"error": message}``) under ``/api/``, where Ollama clients read it.

A client's mistake is a 4xx with one line saying what was wrong; only a fault of ours is a
500. The handlers are installed on the app by :func:`install_error_handlers`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

log = logging.getLogger("codekiln.serve")

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          405: "invalid_request_error", 413: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error", 503: "server_overloaded"}
#: Routes answering in Ollama's shapes.
OLLAMA_PREFIX = "/api/"


class APIError(Exception):
    """Raised anywhere under a route; becomes the OpenAI error body with ``status``."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.headers = headers or {}


def error_body(status: int, message: str, param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": _TYPES.get(status, "server_error"),
                      "param": param, "code": code}}


def error_body_for(path: str, status: int, message: str, param: str | None = None,
                   code: str | None = None) -> dict[str, Any]:
    """The error body in the shape the route's clients parse."""
    if path.startswith(OLLAMA_PREFIX):
        return {"error": message}
    return error_body(status, message, param, code)


def shutting_down() -> APIError:
    """What a request still running when the server begins to stop is told."""
    return APIError(503, "the server is shutting down; this request was cut off, retry it",
                    code="server_shutting_down", headers={"Retry-After": "1"})


def error_response(err: APIError, path: str = "") -> JSONResponse:
    from fastapi.responses import JSONResponse

    return JSONResponse(error_body_for(path, err.status, err.message, err.param, err.code),
                        status_code=err.status, headers=err.headers)


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    first = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    where = ".".join(loc) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {message}{more}", (loc[0] if loc else None)


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(list(exc.errors()))
        return error_response(APIError(422, message, param=param, code="invalid_value"),
                              request.url.path)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail) if exc.status_code != 404 else "no such route"
        return error_response(APIError(exc.status_code, message, headers=exc.headers),
                              request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return error_response(APIError(500, f"internal error: {type(exc).__name__}"),
                              request.url.path)
