"""Draw a lineage graph offline: PNG and SVG with matplotlib, and an HTML page around the SVG.

Why matplotlib and not Graphviz: mlflow (a core dependency) already installs matplotlib, so
drawing needs no system package and works wherever ``uv sync`` works, on Linux, macOS and in
CI images without ``apt``. Boxes go where :mod:`codekiln_core.lineage.layout` puts them
(left to right, or top to bottom for long chains). ``--format dot`` still prints DOT for
people who prefer Graphviz's own layout.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_path, atomic_write_text
from codekiln_core.lineage.graph import FILL, LineageGraph, to_mermaid
from codekiln_core.lineage.layout import FONT_PT, LINE_IN, PAD_IN, Box, Layout, layout

_ARC_RAD = -0.18  # edges that skip a layer bow aside, around the boxes between
_EDGE = {"run": "#3b6fb6", "eval": "#c77a1a", "dataset": "#3d8b3d", "model": "#7d4fa0",
         "pipeline": "#777777"}


def figure(graph: LineageGraph) -> Any:
    """A matplotlib Figure of the graph (Agg backend; no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    placed = layout(graph)
    boxes = placed.boxes
    arcs = {edge: _arc(placed, *edge) for edge in graph.edges}
    right, top = placed.width, placed.height
    if placed.orientation == "LR":
        top += max((abs(rad) * (boxes[t][0] - boxes[s][0]) / 2 for (s, t), rad in arcs.items()
                    if rad), default=0.0)
    margin, title_in, legend_in = 0.15, 0.35, 0.3
    fig = Figure(figsize=(right + 2 * margin, top + 2 * margin + title_in + legend_in))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-margin, right + margin)
    ax.set_ylim(-margin - legend_in, top + margin + title_in)
    ax.axis("off")
    ax.text(-margin + 0.1, top + margin + title_in / 2, graph.title, fontsize=FONT_PT + 3,
            fontweight="bold", va="center")
    kinds = {n.id: n.kind for n in graph.nodes}
    for source, target in graph.edges:
        start, end = _ends(placed, boxes[source], boxes[target], arcs[(source, target)])
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, lw=0.9,
                                     connectionstyle=f"arc3,rad={arcs[(source, target)]}",
                                     color=_EDGE[kinds[source]], shrinkA=1, shrinkB=1))
    for node in graph.nodes:
        x, y, w, h = boxes[node.id]
        style = "round,pad=0,rounding_size=0.12" if node.kind == "dataset" else \
            "square,pad=0"
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style,
                                    facecolor=FILL[node.kind], edgecolor=_EDGE[node.kind],
                                    lw=1.0))
        line_y = y + h / 2 - PAD_IN - LINE_IN / 2
        for index, text in enumerate([node.title, *node.lines]):
            ax.text(x, line_y - index * LINE_IN, text, ha="center", va="center",
                    fontsize=FONT_PT, fontweight="bold" if index == 0 else "normal",
                    family="DejaVu Sans")
    legend = [Patch(facecolor=FILL[k], edgecolor=_EDGE[k], label=label)
              for k, label in (("dataset", "dataset"), ("run", "run"), ("model", "model"),
                               ("eval", "evaluation"))]
    ax.legend(handles=legend, loc="lower left", ncols=4, fontsize=FONT_PT, frameon=False,
              bbox_to_anchor=(0.0, 0.0))
    return fig


def _arc(placed: Layout, source: str, target: str) -> float:
    """Straight between neighbouring layers; an edge that skips a layer bows aside."""
    if placed.layers[target] - placed.layers[source] <= 1:
        return 0.0
    if placed.orientation == "LR":
        return _ARC_RAD
    return _ARC_RAD if placed.boxes[target][0] >= placed.boxes[source][0] else -_ARC_RAD


def _ends(placed: Layout, source: Box, target: Box,
          rad: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where an edge leaves its source box and enters its target box."""
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    if placed.orientation == "TB":
        return (sx, sy - sh / 2), (tx, ty + th / 2)
    if rad:
        return (sx, sy + sh / 2), (tx, ty + th / 2)
    return (sx + sw / 2, sy), (tx - tw / 2, ty)


def write_png(graph: LineageGraph, path: Path, dpi: int = 120) -> Path:
    fig = figure(graph)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return path


def svg_text(graph: LineageGraph) -> str:
    """SVG with real <text> elements (searchable, selectable), not glyph outlines."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure(graph).savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: it is inlined into HTML


def write_html(graph: LineageGraph, path: Path) -> Path:
    """A self-contained page (inline SVG, no scripts, no network) plus the Mermaid source."""
    rows = "\n".join(
        f"<tr><td>{html.escape(n.kind)}</td><td>{html.escape(n.title)}</td>"
        f"<td>{html.escape(' · '.join(n.lines))}</td></tr>" for n in graph.nodes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(graph.title)}</title>
<style>body{{font-family:sans-serif;margin:1.5em}} svg{{max-width:100%;height:auto}}
table{{border-collapse:collapse;font-size:0.9em}} td{{border:1px solid #ccc;padding:2px 6px}}
</style></head><body>
<h1>{html.escape(graph.title)}</h1>
<div class="lineage">{svg_text(graph)}</div>
<h2>Nodes</h2><table><tr><td>kind</td><td>name</td><td>details</td></tr>
{rows}</table>
<details><summary>Mermaid source</summary><pre>{html.escape(to_mermaid(graph))}</pre></details>
</body></html>
"""
    atomic_write_text(path, page)
    return path
