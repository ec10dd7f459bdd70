"""The Ray Data executor runs the same shard code and writes the same bytes as local."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from codekiln_core.lineage.run import LineageRun
from codekiln_curate.engine.curation import run_curation
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
    run_curation(local, LineageRun(None))
    # The executor starts (and stops) its own 2-CPU local cluster, as `--executor ray` does.
    remote = CurateRecipe.model_validate({**base, "output": str(tmp_path / "ray-out"),
                                          "executor": "ray", "workers": 2})
    result = run_curation(remote, LineageRun(None))
    assert not ray.is_initialized()
    assert result.summary["stages"]["exact-dedup"]["reasons"]["exact_duplicate"][0] == 1
    assert digests(tmp_path / "local") == digests(tmp_path / "ray-out")
    assert len(digests(tmp_path / "local")) == 2 * 2


#: A stand-in for `ray start --head`: a process that owns a one-node cluster and prints its
#: address, then holds it until its stdin closes (its own ray.shutdown stops only that cluster).
_HEAD = """
import sys, tempfile
import ray
ray.init(num_cpus=2, include_dashboard=False, _temp_dir=tempfile.mkdtemp(prefix="ck-head-"),
         log_to_driver=False, configure_logging=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


@pytest.mark.slow
def test_ray_executor_joins_the_cluster_ray_address_names(
        tmp_path: Path, tiny_code_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With RAY_ADDRESS set, `--executor ray` runs on that cluster (Ray refuses num_cpus on
    a join) and leaves it running; the output is the local executor's, byte for byte."""
    import subprocess
    import sys

    ray = pytest.importorskip("ray")
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
            "limits": {"shard_files": 5}, "stages": [{"name": "exact-dedup"}]}
    run_curation(CurateRecipe.model_validate({**base, "output": str(tmp_path / "local")}),
                 LineageRun(None))
    env = {k: v for k, v in __import__("os").environ.items() if k != "RAY_ADDRESS"}
    head = subprocess.Popen([sys.executable, "-c", _HEAD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert head.stdout is not None
        address = head.stdout.readline().strip()
        assert address, "the head process printed no address"
        monkeypatch.setenv("RAY_ADDRESS", address)
        remote = CurateRecipe.model_validate({**base, "output": str(tmp_path / "ray-out"),
                                              "executor": "ray", "workers": 64})
        run_curation(remote, LineageRun(None))
        assert not ray.is_initialized()  # disconnected from the cluster it joined
        assert head.poll() is None  # and the cluster is still up
        assert digests(tmp_path / "local") == digests(tmp_path / "ray-out")
    finally:
        assert head.stdin is not None
        head.stdin.close()
        head.wait(timeout=60)
