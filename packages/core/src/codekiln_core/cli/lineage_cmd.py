"""``codekiln lineage``: walk a model or run back to its raw inputs; open the MLflow UI."""

from __future__ import annotations

from pathlib import Path

import typer

from codekiln_core.cli.options import NoLineage

lineage_app = typer.Typer(
    help="Trace models and datasets back to their raw inputs (MLflow).", no_args_is_help=True
)


FORMATS = ("text", "json", "mermaid", "dot", "png", "svg", "html")
_PICTURES = ("png", "svg", "html")


@lineage_app.command("show")
def show(
    ref: str = typer.Argument(..., help="A run id, a pipeline's parent run id, or a "
                              "registered model: models:/NAME/VERSION."),
    fmt: str = typer.Option("text", "--format", "-f",
                            help="text, json, mermaid, dot, or a picture: png, svg, html."),
    output: Path = typer.Option(None, "--output", "-o",  # noqa: B008
                                help="where png/svg/html go (default lineage.FORMAT)."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """Print (or draw) the chain of runs from REF back to the raw inputs."""
    from codekiln_core.errors import ConfigError
    from codekiln_core.lineage.chain import render_chain, walk_chain

    fmt = "json" if as_json else fmt.lower()
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    chain = walk_chain(ref)
    if fmt == "text":
        typer.echo(render_chain(chain))
        return
    if fmt == "json":
        typer.echo(chain.to_json())
        return
    from codekiln_core.lineage import graph as lineage_graph

    drawn = lineage_graph.build_graph(chain)
    if fmt in ("mermaid", "dot"):
        render = lineage_graph.to_mermaid if fmt == "mermaid" else lineage_graph.to_dot
        typer.echo(render(drawn))
        return
    from codekiln_core.fsio import atomic_write_text
    from codekiln_core.lineage import draw

    target = output or Path(f"lineage.{fmt}")
    if fmt == "png":
        draw.write_png(drawn, target)
    elif fmt == "svg":
        atomic_write_text(target, draw.svg_text(drawn))
    else:
        draw.write_html(drawn, target)
    typer.echo(f"lineage picture: {target}")


@lineage_app.command("compare")
def compare(
    runs: list[str] = typer.Argument(..., help="runs as [ARM[@SEED]=][PREFIX:]RUN_ID, e.g. "  # noqa: B008
                                     "rules@0=RUN (pretraining), rules@0=mbpp:RUN (an eval: "
                                     "its metrics become mbpp/NAME)"),
    metric: list[str] = typer.Option(..., "--metric", "-m",  # noqa: B008
                                     help="NAME[:final|min|max], repeatable, e.g. val_loss, "
                                     "val_loss:min, mbpp/pass_at_1"),
    output: Path = typer.Option(..., "--output", "-o",  # noqa: B008
                                help="directory for comparison.md/.json/.png"),
    baseline: str = typer.Option(None, "--baseline",
                                 help="the arm the others are compared with (default: first)"),
    title: str = typer.Option("comparison", "--title", help="title of the table and plot"),
    no_lineage: NoLineage = False,
) -> None:
    """Arms x seeds side by side: a table, mean ± std, differences with their SE, a bar plot."""
    from codekiln_core.lineage.compare_cmd import run_compare

    run_compare(runs, metric, output, baseline=baseline, title=title, lineage=not no_lineage)


@lineage_app.command("ui")
def ui(
    port: int = typer.Option(5000, help="Port on 127.0.0.1."),
    wait: bool = typer.Option(True, help="Block until Ctrl-C (use --no-wait in scripts)."),
) -> None:
    """Start the MLflow UI on 127.0.0.1 over the codekiln store and print its URL."""
    from codekiln_core.lineage.ui import serve_ui

    serve_ui(port=port, wait=wait)
