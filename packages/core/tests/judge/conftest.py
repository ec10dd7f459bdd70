"""A shared, real LocalSandbox for the judge's tests (starting workers costs ~1 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codekiln_core.sandbox import LocalSandbox, SandboxLimits


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=10, max_output_kb=64)) as sb:
        yield sb
