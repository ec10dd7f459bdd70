"""``codekiln lineage show REF``: the chain of runs from a model or run back to raw inputs."""

from __future__ import annotations

from pathlib import Path

import typer

from codekiln_core.cli.contract import CliCommand

FORMATS = ("text", "json", "mermaid", "dot", "png", "svg", "html")


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


COMMAND = CliCommand("lineage.show", show)
