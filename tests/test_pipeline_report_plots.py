"""``codekiln run`` with real training and gating steps: each step run holds its own
pictures, and the pipeline report gathers them (curves, the gate's histogram) and its
closing table names them.

Real commands in real processes: ``train scorer`` on stdlib-made labels, then ``curate
score`` with that scorer. (The pass@k chart across eval steps is covered, on real runs, by
packages/core/tests/pipeline/test_core_pipeline_report.py.)
"""

from __future__ import annotations

import hashlib
import json
import re
import sysconfig
from pathlib import Path

import pytest

from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow

PIPELINE = """name: report-demo
workdir: {workdir}
steps:
  - name: scorer
    kind: scorer
    inputs: ["{labels}"]
    options: {{preset: tiny, device: cpu, threads: 1}}
    set: {{max_tokens: 64, epochs: 2, tokenizer_vocab: 400, eval_points: 3}}
  - name: score
    kind: score
    inputs: ["{dataset}"]
    options: {{model: "${{steps.scorer.output}}", device: cpu, max_tokens: 64}}
"""


def stdlib_heads(count: int, skip: int = 0) -> list[tuple[str, str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [p for p in sorted(stdlib.glob("*.py")) if 3_000 < p.stat().st_size < 60_000]
    return [(p.name, "\n".join(p.read_text(errors="replace").splitlines()[:40]) + "\n")
            for p in files[skip:skip + count]]


def write_parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def rows_of(heads: list[tuple[str, str]], scored: bool) -> list[dict[str, object]]:
    """Each module as documented code (high) and as a JSON dump of its lines (low)."""
    rows: list[dict[str, object]] = []
    for index, (name, code) in enumerate(heads):
        dump = json.dumps([{"line": i, "text": t} for i, t in enumerate(code.splitlines())])
        for language, content, score in (("python", code, 8 + index % 2), ("json", dump, 1)):
            row: dict[str, object] = {
                "id": hashlib.sha256(f"{name}{language}".encode()).hexdigest(),
                "path": f"{language}/{name}", "language": language, "content": content}
            if scored:
                row |= {"score": score, "explanation": "test"}
            rows.append(row)
    return rows


def last_column(table: str) -> str:
    """A rich table's last column read top to bottom, whatever width folded it to or colours
    it added (CI consoles differ): a folded cell goes on in the same column below."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", table)
    return "".join(parts[-2].strip() for line in plain.splitlines()
                   if len(parts := line.split("│")) >= 3)


def test_report_gathers_step_run_pictures_from_real_commands(
    tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The closing table, unfolded: rich takes COLUMNS as the width for sure only with LINES
    # set too (otherwise a detected terminal, or a "dumb" one, decides).
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("LINES", "50")
    labels = write_parquet(tmp_path / "labels" / "labels.parquet",
                           rows_of(stdlib_heads(20), scored=True)).parent
    dataset = write_parquet(tmp_path / "curated" / "data" / "part-0.parquet",
                            rows_of(stdlib_heads(10, skip=40), scored=False)).parent.parent
    recipe = tmp_path / "pipeline.yaml"
    work = tmp_path / "work"
    recipe.write_text(PIPELINE.format(workdir=work, labels=labels, dataset=dataset))
    assert main(["run", str(recipe)]) == 0, capsys.readouterr().err[-3000:]
    table = capsys.readouterr().out

    report = work / ".pipeline" / "report"
    summary = json.loads((report / "summary.json").read_text())
    plots = {row["step"]: row["plots"] for row in summary["steps"]}
    assert plots == {"scorer": ["curves-scorer.png"], "score": ["gate-score.png"]}
    curves = json.loads((report / "curves-scorer.json").read_text())["panels"]
    steps = [p[0] for p in curves["loss"]["loss"]]
    assert len(steps) >= 3 and [p[0] for p in curves["learning rate"]["lr"]] == steps
    assert [p[0] for p in curves["loss"]["val_loss"]][-1] == steps[-1]
    from codekiln_core.testing import logged_curves, png_size

    assert png_size(report / "gate-score.png")[0] >= 300
    scorer_run = next(r["run_id"] for r in summary["steps"] if r["step"] == "scorer")
    assert logged_curves(scorer_run, tmp_path) == curves  # the step run's own copy

    from mlflow import MlflowClient

    parent = MlflowClient().list_artifacts(summary["parent_run_id"], "plots")
    assert {a.path for a in parent} >= {"plots/curves-scorer.png", "plots/gate-score.png"}
    plots_column = last_column(table)
    assert "curves-scorer.png" in plots_column and "gate-score.png" in plots_column, table
