"""A failing step stops the pipeline, marks the parent run FAILED, and runs again on rerun,
with ``--resume`` added only to the retry of a step that did not finish.

The steps are a third-party plugin's contract command (the ``demo`` fixture), run as real
``codekiln`` subprocesses.
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
  - name: counting
    kind: count
    inputs: ["{text}"]
  - name: broken
    kind: demo.count
    inputs: ["{text}"]
    set: {{fail: true}}
  - name: after
    kind: count
    inputs: ["{text}"]
"""


def test_failed_step_stops_and_is_retried_with_resume(
        demo: object, mlflow_store: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "pipe.yaml"
    work = tmp_path / "work"
    recipe.write_text(PIPELINE.format(workdir=work, text=tmp_path / "a.txt"), encoding="utf-8")
    assert main(["run", str(recipe)]) == 1
    first = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    statuses = {s["step"]: s["status"] for s in first["steps"]}
    assert statuses == {"counting": "ran", "broken": "failed", "after": "pending"}
    assert "step 'broken' failed (exit code" in capsys.readouterr().err
    broken_log = (work / ".pipeline" / "logs" / "broken.log").read_text()
    assert "asked to fail" in broken_log  # the step's own error, from its stderr

    from mlflow import MlflowClient

    parent = MlflowClient().get_run(first["parent_run_id"])
    assert parent.info.status == "FAILED"
    capsys.readouterr()

    assert main(["run", str(recipe), "--until", "broken"]) == 0
    second = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    assert second["parent_run_id"] == first["parent_run_id"]  # the unfinished parent resumes
    statuses = {s["step"]: s["status"] for s in second["steps"]}
    assert statuses == {"counting": "skipped", "broken": "ran", "after": "outside range"}
    assert "[1/2] counting: finished earlier" in capsys.readouterr().err
    commands = [line for line in (work / ".pipeline" / "logs" / "broken.log").read_text()
                .splitlines() if line.startswith("$ codekiln")]
    assert len(commands) == 2 and "--resume" not in commands[0]
    assert commands[1] == commands[0] + " --resume"  # the same step, continued
    assert "resumed: True" in (work / ".pipeline" / "logs" / "broken.log").read_text()
