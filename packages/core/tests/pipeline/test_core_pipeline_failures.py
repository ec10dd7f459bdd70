"""A failing step stops the pipeline, marks the parent run FAILED, and runs again on rerun.

Core-only steps (``kind: command`` on core's own sub-commands), as real subprocesses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow

PIPELINE = """name: failing
workdir: {workdir}
steps:
  - name: listing
    kind: command
    command: [plugins, list]
    options: {{json: true}}
  - name: broken
    kind: command
    command: [lineage, show]
    inputs: ["not-a-run-id"]
  - name: after
    kind: command
    command: [plugins, list]
"""


def test_failed_step_stops_and_is_retried(mlflow_store: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "pipe.yaml"
    work = tmp_path / "work"
    recipe.write_text(PIPELINE.format(workdir=work), encoding="utf-8")
    assert main(["run", str(recipe)]) == 1
    first = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    statuses = {s["step"]: s["status"] for s in first["steps"]}
    assert statuses == {"listing": "ran", "broken": "failed", "after": "pending"}
    assert "exit code 2" in first["steps"][1]["note"]
    assert "step 'broken' failed (exit code 2" in capsys.readouterr().err
    assert '"plugins"' in (work / ".pipeline" / "logs" / "listing.log").read_text()
    broken_log = (work / ".pipeline" / "logs" / "broken.log").read_text()
    assert "not-a-run-id" in broken_log.splitlines()[-1]  # the step's own error, from stderr

    from mlflow import MlflowClient

    parent = MlflowClient().get_run(first["parent_run_id"])
    assert parent.info.status == "FAILED"
    capsys.readouterr()

    assert main(["run", str(recipe), "--until", "broken"]) == 1
    second = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    assert second["parent_run_id"] == first["parent_run_id"]  # the unfinished parent resumes
    statuses = {s["step"]: s["status"] for s in second["steps"]}
    assert statuses == {"listing": "skipped", "broken": "failed", "after": "outside range"}
    assert "[1/2] listing: finished earlier" in capsys.readouterr().err


RESUMING = """name: resuming
workdir: {workdir}
steps:
  - name: trainer
    kind: fake-trainer
    inputs: ["not-a-run-id"]
"""


def test_resume_flag_only_on_a_resumed_try(mlflow_store: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Like pretrain's --resume: absent on the first try, added when an interrupted step with
    the same inputs runs again (and not part of the inputs digest, or it would never match)."""
    from codekiln_core.pipeline.kinds import KINDS, StepKind

    monkeypatch.setitem(KINDS, "fake-trainer", StepKind(("lineage", "show"), output_flag=None,
                                                        resume_flag="--json"))
    recipe = tmp_path / "pipe.yaml"
    work = tmp_path / "work"
    recipe.write_text(RESUMING.format(workdir=work), encoding="utf-8")
    assert main(["run", str(recipe)]) == 1  # fails: stays "started", like a killed step
    assert main(["run", str(recipe)]) == 1
    commands = [line for line in (work / ".pipeline" / "logs" / "trainer.log").read_text()
                .splitlines() if line.startswith("$ codekiln")]
    assert commands == ["$ codekiln lineage show not-a-run-id",
                        "$ codekiln lineage show not-a-run-id --json"]
