"""Helpers for core tests: fake-but-real installed plugin distributions on sys.path."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

InstallPlugin = Callable[..., Path]


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InstallPlugin]:
    """Write a module plus a ``.dist-info`` with a ``codekiln`` entry point onto sys.path.

    importlib.metadata discovers it exactly as it would a pip-installed plugin.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    created: list[str] = []

    def install(dist: str, module: str, source: str, *, ep_name: str | None = None,
                version: str = "1.0.0") -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[codekiln]\n{ep_name or dist} = {module}\n", encoding="utf-8"
        )
        created.append(module)
        importlib.invalidate_caches()
        return site

    yield install
    for module in created:
        sys.modules.pop(module, None)
