"""Lineage on the stack docs/cluster.md prescribes: one ``mlflow server`` on PostgreSQL,
artifacts proxied over http://, every step of the chain its own ``codekiln`` process.

The test starts its own PostgreSQL cluster (Debian's ``postgresql``: initdb + pg_ctl, in a
temp directory on a free port; as root, through an unprivileged account) and an MLflow
server on it, runs curate -> tokenizer -> shards -> pretrain (registered) -> eval against
the server, walks the chain back with ``codekiln lineage show``, and stops everything.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from codekiln_core.testing import free_port

pytestmark = pytest.mark.slow

DB_USER = "codekiln"


def _postgres_bin() -> Path | None:
    """The directory of Debian's initdb/pg_ctl (not on PATH by default), newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name))
    return Path(versions[-1]).parent if versions else None


def _server_account() -> str | None:
    """PostgreSQL refuses to run as root: root runs it as this account (None: as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    pytest.skip("running as root and no unprivileged account to run PostgreSQL as")


def _as(account: str | None, argv: list[str]) -> list[str]:
    if account is None:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", account, "--", *argv]
    return ["su", "-s", "/bin/sh", account, "-c", shlex.join(argv)]


def _run_as(account: str | None, argv: list[str], cwd: Path, check: bool = True) -> None:
    done = subprocess.run(_as(account, argv), cwd=cwd, env=dict(os.environ, LC_ALL="C", LANG="C"),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 or not check, f"{argv}: {done.stderr[-2000:]}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL cluster on 127.0.0.1, stopped and deleted after the test."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    account = _server_account()
    root = Path(tempfile.mkdtemp(prefix="codekiln-pg-"))  # not under pytest's 0700 tmp tree
    data, port = root / "data", free_port()
    if account is not None:
        entry = pwd.getpwnam(account)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        _run_as(account, [str(bindir / "initdb"), "-D", str(data), "-U", DB_USER, "-A", "trust",
                          "-E", "UTF8", "--locale=C", "--no-sync"], root)
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
        _run_as(account, [*pg_ctl, "-o", options, "-l", str(root / "server.log"), "-w",
                          "start"], root)
        try:
            import psycopg

            with psycopg.connect(host="127.0.0.1", port=port, user=DB_USER, dbname="postgres",
                                 autocommit=True) as connection:
                connection.execute("CREATE DATABASE mlflow")
            yield f"postgresql://{DB_USER}@127.0.0.1:{port}/mlflow"
        finally:
            _run_as(account, [*pg_ctl, "-m", "fast", "-w", "stop"], root, check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mlflow_server(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``mlflow server`` on the cluster, serving artifacts (stored under the returned
    directory) over http://; yields (tracking URL, artifact directory)."""
    from codekiln_core.lineage.ui import start_mlflow

    artifacts = tmp_path / "server-artifacts"
    server = start_mlflow(["server", "--backend-store-uri", postgres_url, "--serve-artifacts",
                           "--artifacts-destination", artifacts.as_uri()], free_port(),
                          log=tmp_path / "mlflow-server.log", ready_timeout_s=300)
    try:
        yield server.url, artifacts
    finally:
        server.stop()


def _codekiln(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(Path(sys.executable).with_name("codekiln")), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"codekiln {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


def _run_id(output: str) -> str:
    found = re.findall(r"mlflow run: ([0-9a-f]{32})", output)
    assert found, output[-2000:]
    return found[-1]


def test_chain_across_processes_on_a_postgres_backed_server(
        mlflow_server: tuple[str, Path], tmp_path: Path) -> None:
    url, server_artifacts = mlflow_server
    env = {k: v for k, v in os.environ.items() if k != "CODEKILN_ARTIFACT_ROOT"}
    env.update(MLFLOW_TRACKING_URI=url, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="",
               MLFLOW_DISABLE_TELEMETRY="true")
    env.pop("CODEKILN_BENCHMARK_DATA", None)  # the bundled HumanEval
    work = tmp_path / "work"
    raw = work / "raw"
    raw.mkdir(parents=True)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in [p for p in sorted(stdlib.glob("*.py")) if 3_000 < p.stat().st_size < 20_000][:12]:
        shutil.copy(path, raw / path.name)
    (work / "curate.yaml").write_text(yaml.safe_dump({
        "inputs": [{"kind": "dir", "path": "raw"}], "output": "curated",
        "stages": [{"name": "exact-dedup"}]}), encoding="utf-8")
    (work / "pretrain.yaml").write_text(yaml.safe_dump({
        "model": {"preset": "tiny", "num_hidden_layers": 1},
        "engine": {"micro_batch_size": 2, "lr": 3e-3},
        "stages": [{"name": "regular", "steps": 2,
                    "mixture": [{"path": "shards", "name": "code"}],
                    "schedule": {"kind": "wsd", "warmup_steps": 1}}],
        "checkpoint": {"every_steps": 2}, "log": {"every_steps": 1},
        "output": "run"}), encoding="utf-8")

    curated = _run_id(_codekiln(work, env, "curate", "run", "curate.yaml", "--quiet"))
    _codekiln(work, env, "curate", "tokenizer", "train", "curated", "--vocab-size", "300",
              "--output", "tok")
    _codekiln(work, env, "curate", "shards", "curated", "--tokenizer", "tok", "--seq-len", "64",
              "--sequences-per-shard", "64", "--output", "shards")
    trained = _codekiln(work, env, "train", "pretrain", "pretrain.yaml", "--register",
                        "tiny-pg", "--threads", "1")
    assert "registered: models:/tiny-pg/1" in trained
    evaluated = _run_id(_codekiln(
        work, env, "eval", "run", "-b", "humaneval", "-m", "models:/tiny-pg/1", "--limit", "1",
        "-n", "1", "--max-tokens", "4", "--mode", "completion", "--calibrate", "off",
        "--workers", "1", "-o", "eval"))

    shown = _codekiln(work, env, "lineage", "show", evaluated)
    steps = [shown.index(command) for command in ("eval.run", "train.pretrain", "curate.shards")]
    assert steps == sorted(steps), shown
    assert min(shown.index("curate.tokenizer"), shown.index("curate.run")) > steps[-1], shown
    assert curated in shown and str(raw.resolve()) in shown.split("raw inputs:", 1)[1]

    # Nothing went to a local store: runs in PostgreSQL, files through the server.
    assert not (work / ".codekiln" / "mlflow.db").exists()
    stored = {p.name for p in server_artifacts.rglob("*") if p.is_file()}
    assert {"model.safetensors", "config.json"} <= stored, sorted(stored)[:20]
