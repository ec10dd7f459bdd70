"""A shared, real LocalSandbox for the sandbox tests (starting workers costs ~1 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codekiln_core.sandbox import LocalSandbox, SandboxLimits

TEST_LIMITS = SandboxLimits(timeout_s=5, memory_mb=512, max_processes=32, max_file_mb=16,
                            max_output_kb=64)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=TEST_LIMITS) as sb:
        yield sb
