"""The embedded store's file lock: it guards creation, and never stops a reader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.lineage.store import connect
from codekiln_core.testing import remount_read_only


@pytest.mark.slow
def test_a_store_on_a_read_only_mount_can_still_be_read(
        small_disk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = small_disk(16 * 1024 * 1024)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{disk / 'mlflow.db'}")
    monkeypatch.setenv("CODEKILN_ARTIFACT_ROOT", str(disk / "artifacts"))
    record = ("from codekiln_core.lineage.command import lineage_command\n"
              "with lineage_command('x.record', config={'a': 1}) as run:\n"
              "    print(run.run_id)\n")  # another process: this one keeps no file open
    run_id = subprocess.run([sys.executable, "-c", record], capture_output=True, text=True,
                            check=True).stdout.split()[-1]
    (disk / "mlflow.db.lock").unlink()  # as if the store had been copied without it
    remount_read_only(disk)
    client, _ = connect(create=False)
    assert client.get_run(run_id).data.params == {"a": "1"}


def test_the_lock_file_sits_beside_the_store(mlflow_store: str) -> None:
    connect()
    store = Path(mlflow_store.removeprefix("sqlite:///"))
    assert store.is_file() and store.with_name("mlflow.db.lock").is_file()
