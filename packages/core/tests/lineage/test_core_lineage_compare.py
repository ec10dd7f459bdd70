"""``codekiln lineage compare``: arms x seeds from a real MLflow store, stats, files, lineage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.lineage.command import lineage_command
from codekiln_core.lineage.compare import parse_metric, parse_run_spec, t95

# (arm, seed) -> validation losses at steps 10, 20 (the last is "final") and mbpp pass@1
RUNS = {("rules", 0): ([3.0, 2.50], 0.1), ("rules", 1): ([3.2, 2.70], 0.0),
        ("rules", 2): ([2.9, 2.60], 0.1),
        ("llm", 0): ([2.8, 2.40], 0.2), ("llm", 1): ([3.1, 2.55], 0.1),
        ("llm", 2): ([2.7, 2.52], 0.1)}


def _log_runs(*, evals: bool = True) -> list[str]:
    specs = []
    for (arm, seed), (losses, passed) in RUNS.items():
        with lineage_command("train.pretrain", config={"seed": seed}) as train:
            for step, loss in zip((10, 20), losses, strict=True):
                train.log_metrics({"val_loss": loss}, step=step)
        specs.append(f"{arm}@{seed}={train.run_id}")
        if not evals:
            continue
        with lineage_command("eval.run") as evaluation:
            evaluation.log_metrics({"pass_at_1": passed, "val_loss": 99.0})
        specs.append(f"{arm}@{seed}=mbpp:{evaluation.run_id}")
    return specs


def test_compare_writes_table_plot_and_paired_differences(
    mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = _log_runs()
    out = tmp_path / "cmp"
    assert main(["lineage", "compare", *specs, "-m", "val_loss", "-m", "val_loss:min",
                 "-m", "mbpp/pass_at_1", "--baseline", "rules", "--output", str(out)]) == 0
    data = json.loads((out / "comparison.json").read_text())
    assert data["arms"] == ["rules", "llm"] and data["seeds"] == [0, 1, 2]
    rows = {(r["arm"], r["seed"]): r["metrics"] for r in data["rows"]}
    # the eval run's own val_loss (99) stays out: its metrics are mbpp/NAME
    assert rows[("llm", 1)] == {"val_loss": 2.55, "val_loss (min)": 2.55,
                                "mbpp/pass_at_1": 0.1}
    rules = data["summary"]["rules"]["val_loss"]
    assert rules["n"] == 3 and math.isclose(rules["mean"], 2.6)
    assert math.isclose(rules["std"], 0.1)  # sample std of 2.5, 2.7, 2.6
    diff = next(d for d in data["differences"] if d["metric"] == "val_loss")
    per_seed = [2.40 - 2.50, 2.55 - 2.70, 2.52 - 2.60]
    mean = sum(per_seed) / 3
    se = math.sqrt(sum((d - mean) ** 2 for d in per_seed) / 2) / math.sqrt(3)
    assert diff["paired"] and diff["n"] == 3
    assert math.isclose(diff["diff"], mean) and math.isclose(diff["se"], se)
    assert math.isclose(diff["ci95"], 4.303 * se)  # t with 2 degrees of freedom
    assert diff["verdict"] == "95% CI excludes 0"  # -0.11 ± 0.090
    md = (out / "comparison.md").read_text()
    assert "| llm | 1 | 2.5500 | 2.5500 | 0.1000 |" in md
    assert "| rules | 3 | 2.6000 ± 0.1000 |" in md
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "## Difference from rules" in printed
    run_id = printed.strip().splitlines()[-1].removeprefix("mlflow run: ")

    from mlflow import MlflowClient

    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.data.tags["codekiln.command"] == "lineage.compare"
    assert math.isclose(run.data.metrics["val_loss.diff.llm"], mean)
    assert math.isclose(run.data.metrics["val_loss.diff_se.llm"], se)
    logged = {f.path for f in client.list_artifacts(run_id, "comparison")}
    assert logged == {"comparison/comparison.json", "comparison/comparison.md",
                      "comparison/comparison.png"}
    upstream = set(run.data.tags["codekiln.upstream_runs"].split(","))
    assert upstream == {s.rsplit("=", 1)[1].rsplit(":", 1)[-1] for s in specs}


def test_one_seed_has_no_error_bar_and_unpaired_seeds_combine_errors(
    mlflow_store: str, tmp_path: Path
) -> None:
    specs = _log_runs(evals=False)
    one = [s for s in specs if "@0=" in s]
    assert main(["lineage", "compare", *one, "-m", "val_loss", "-o", str(tmp_path / "one"),
                 "--no-lineage"]) == 0
    data = json.loads((tmp_path / "one" / "comparison.json").read_text())
    assert data["summary"]["llm"]["val_loss"]["std"] is None
    assert data["differences"][0]["verdict"] == "one seed: no error bar"
    unpaired = [s for s in specs if not s.startswith("llm@2")]
    assert main(["lineage", "compare", *unpaired, "-m", "val_loss", "-o",
                 str(tmp_path / "unpaired"), "--no-lineage"]) == 0
    diff = json.loads((tmp_path / "unpaired" / "comparison.json").read_text())["differences"][0]
    assert not diff["paired"]
    # llm seeds 0,1: mean 2.475, var 0.01125; rules 0..2: mean 2.6, var 0.01
    assert math.isclose(diff["diff"], 2.475 - 2.6)
    assert math.isclose(diff["se"], math.sqrt(0.01125 / 2 + 0.01 / 3))
    assert diff["verdict"] == "95% CI includes 0 (seed noise)"  # df 1: t = 12.7


def test_t_table() -> None:
    assert [t95(d) for d in (1, 2, 12, 500)] == [12.706, 4.303, 2.228, 1.96]


def test_bad_specs_are_one_line(mlflow_store: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"run 'rules@x=abc': expected"):
        parse_run_spec("rules@x=abc")
    with pytest.raises(ConfigError, match=r"--metric 'val_loss:last': expected NAME"):
        parse_metric("val_loss:last")
    assert parse_run_spec("a@3=mbpp:" + "f" * 32).prefix == "mbpp"
    with lineage_command("x.y") as a:
        a.log_metrics({"pass_at_1": 0.5})
    with lineage_command("x.y") as b:
        b.log_metrics({"pass_at_1": 0.25})
    with pytest.raises(ConfigError, match=r"comes from two runs; give one of them a PREFIX"):
        main_raise(["lineage", "compare", f"a@0={a.run_id}", f"a@0={b.run_id}",
                    "-m", "pass_at_1", "-o", str(tmp_path / "x")])
    with pytest.raises(ConfigError, match=r"not in the MLflow store"):
        main_raise(["lineage", "compare", "0" * 32, "-m", "loss", "-o", str(tmp_path / "y")])


def main_raise(argv: list[str]) -> None:
    """Run the command without the CLI's error boundary, so the error type is checked."""
    import typer

    from codekiln_core.cli.app import build_app

    typer.main.get_command(build_app()).main(args=argv, prog_name="codekiln",
                                             standalone_mode=False)
