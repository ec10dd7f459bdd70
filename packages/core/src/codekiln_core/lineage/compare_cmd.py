"""``codekiln lineage compare``: read the runs, write the report, log it as its own run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer


def run_compare(runs: Sequence[str], metrics: Sequence[str], output: Path, *,
                baseline: str | None, title: str, lineage: bool = True) -> dict[str, object]:
    """The comparison data; with ``lineage`` the runs compared are this run's inputs."""
    from codekiln_core.lineage.command import lineage_command
    from codekiln_core.lineage.compare import (
        collect_rows,
        comparison,
        comparison_metrics,
        parse_metric,
        parse_run_spec,
    )
    from codekiln_core.lineage.compare_report import markdown, write_report
    from codekiln_core.lineage.refs import InputRef
    from codekiln_core.lineage.store import connect

    specs = [parse_run_spec(text) for text in runs]
    wanted = [parse_metric(text) for text in metrics]
    client, _ = connect(create=False)
    rows = collect_rows(client, specs, wanted)
    data = comparison(rows, wanted, baseline)
    inputs = [InputRef.from_run(s.run_id, name=_input_name(text))
              for s, text in zip(specs, runs, strict=True)]
    config = {"runs": list(runs), "metrics": list(metrics), "baseline": data["baseline"],
              "title": title, "output": str(output.resolve())}
    with lineage_command("lineage.compare", config=config, inputs=inputs,
                         enabled=lineage) as run:
        files = write_report(data, output, title)
        for path in files:
            run.log_artifact(path, "comparison")
        run.log_metrics(comparison_metrics(data))
        run.log_output(output, name="comparison")
    typer.echo(markdown(data, title))
    for path in files:
        typer.echo(f"wrote {path}")
    if run.run_id:
        typer.echo(f"mlflow run: {run.run_id}")
    return data


def _input_name(text: str) -> str:
    head, sep, tail = text.partition("=")
    label = head if sep else "run"
    prefix = tail.partition(":")[0] if sep and ":" in tail else ""
    return f"{label}:{prefix}" if prefix else label
