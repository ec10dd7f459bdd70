"""Many ``codekiln`` commands started at once on a directory with no lineage store yet.

MLflow creates and migrates a fresh SQLite store on first use; unserialised, parallel first
uses fail (``table ... already exists``, ``duplicate column name``). Every command must
succeed and every run be recorded in the one store.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = 8


def _codekiln() -> str:
    return str(Path(sys.executable).with_name("codekiln"))


@pytest.mark.slow
def test_eight_commands_at_once_create_one_store(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "CODEKILN_ARTIFACT_ROOT")}
    env.update(OMP_NUM_THREADS="1", MLFLOW_DISABLE_TELEMETRY="true")
    assert not (tmp_path / ".codekiln").exists()
    processes = [
        subprocess.Popen([_codekiln(), "curate", "heldout", "--mbpp-split", "prompt",
                          "-o", f"out{i}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for i in range(COMMANDS)
    ]
    outputs = [process.communicate()[0] for process in processes]
    failures = [f"command {i} exited {p.returncode}: {out[-600:]}"
                for i, (p, out) in enumerate(zip(processes, outputs, strict=True))
                if p.returncode != 0]
    assert not failures, "\n".join(failures)

    run_ids = {match.group(1) for out in outputs
               for match in re.finditer(r"mlflow run: ([0-9a-f]{32})", out)}
    assert len(run_ids) == COMMANDS
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / '.codekiln' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("codekiln")
    assert experiment is not None
    recorded = client.search_runs([experiment.experiment_id], max_results=100)
    assert {run.info.run_id for run in recorded} == run_ids
    assert {run.info.status for run in recorded} == {"FINISHED"}
