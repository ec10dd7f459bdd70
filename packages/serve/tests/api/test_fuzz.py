"""schemathesis against the running server's OpenAPI schema: whatever it sends, the answer
is never a 5xx. The model has a short context so each example generates little."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from codekiln_serve.testing import ServerThread, build_tiny_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    from codekiln_serve.settings import ServeSettings

    # 320 positions: room for the Seed-Coder system prompt and a short answer, no more
    model = build_tiny_model(tmp_path_factory.mktemp("fuzz") / "short",
                             max_position_embeddings=320)
    settings = ServeSettings(model=str(model), engine="transformers", port=0, lineage=False,
                             threads=1, max_body_bytes=64 * 1024)
    with ServerThread(settings) as srv:
        yield srv


@pytest.fixture(scope="module")
def api_schema(fuzz_server: ServerThread) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")


EXAMPLES_PER_OPERATION = 60
#: The editor routes generate up to the context by default (llama.cpp's and Ollama's -1):
#: fewer examples keep their share of the suite's time in line with the others.
EXAMPLES_PER_EDITOR_OPERATION = 25
EDITOR_ROUTES = {"/infill", "/api/generate", "/v1/fim/completions"}


def test_no_server_errors(api_schema: Any, fuzz_server: ServerThread) -> None:
    """Every operation, EXAMPLES_PER_OPERATION generated requests each (schemathesis's
    pytest plugin predates pytest 9, so the strategies are driven by hypothesis here)."""
    from collections import Counter

    from hypothesis import given

    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    seen: Counter[tuple[str, int]] = Counter()
    served = fuzz_server.built.names[0]

    def served_model(case: Any) -> Any:
        # a random model name is a correct 404; most cases name the served model instead
        if isinstance(case.body, dict) and "model" in case.body and hash(
                repr(case.body)) % 8:
            case.body["model"] = served
        return case

    for operation in operations:
        examples = (EXAMPLES_PER_EDITOR_OPERATION if operation.path in EDITOR_ROUTES
                    else EXAMPLES_PER_OPERATION)

        @given(case=operation.as_strategy().map(served_model))
        @settings(max_examples=examples, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call_and_validate(base_url=fuzz_server.base_url,
                                              checks=[not_a_server_error], timeout=60)
            seen[(case.operation.path, response.status_code)] += 1

        check()
    print(sorted(seen.items()))
    # the fuzzer got past validation too: generation ran on fuzzed parameters
    assert seen[("/v1/completions", 200)] and seen[("/v1/chat/completions", 200)]
    assert seen[("/infill", 200)] and seen[("/api/generate", 200)]


def test_schema_has_the_generation_routes(api_schema: Any, fuzz_server: ServerThread,
                                          tmp_path: Path) -> None:
    import httpx

    paths = httpx.get(f"{fuzz_server.base_url}/openapi.json").json()["paths"]
    assert {"/v1/completions", "/v1/chat/completions", "/v1/models", "/infill", "/api/generate",
            "/api/tags", "/api/show", "/v1/fim/completions"} <= set(paths)
