"""The Ray Data executor runs the same shard code and writes the same bytes as local."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from codekiln_curate.engine.driver import run_curation
from codekiln_curate.recipe import CurateRecipe


def digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("data", "dropped") for p in sorted((out / sub).glob("*.parquet"))}


@pytest.mark.slow
def test_ray_executor_output_equals_local(tmp_path: Path, tiny_code_corpus: Path) -> None:
    ray = pytest.importorskip("ray")
    (tiny_code_corpus / "copy").mkdir()
    (tiny_code_corpus / "copy" / "ops.py").write_text((tiny_code_corpus / "calc" / "ops.py")
                                                      .read_text())
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
            "limits": {"shard_files": 5},
            "stages": [{"name": "exact-dedup"}, {"name": "near-dedup"}]}
    local = CurateRecipe.model_validate({**base, "output": str(tmp_path / "local")})
    run_curation(local, lineage=False)
    # The executor starts (and stops) its own 2-CPU local cluster, as `--executor ray` does.
    remote = CurateRecipe.model_validate({**base, "output": str(tmp_path / "ray-out"),
                                          "executor": "ray", "workers": 2})
    result = run_curation(remote, lineage=False)
    assert not ray.is_initialized()
    assert result.summary["stages"]["exact-dedup"]["reasons"]["exact_duplicate"][0] == 1
    assert digests(tmp_path / "local") == digests(tmp_path / "ray-out")
    assert len(digests(tmp_path / "local")) == 2 * 2
