"""Draw a lineage graph offline: PNG and SVG with matplotlib, and an HTML page around the SVG.

Why matplotlib and not Graphviz: mlflow (a core dependency) already installs matplotlib, so
drawing needs no system package and works wherever ``uv sync`` works, on Linux, macOS and in
CI images without ``apt``. The layout is a small layered (Sugiyama-style) one: columns by
longest path from the raw inputs, rows ordered by the mean row of each node's parents.
``--format dot`` still prints DOT for people who prefer Graphviz's own layout.
"""

from __future__ import annotations

import html
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_path, atomic_write_text
from codekiln_core.lineage.graph import FILL, GraphNode, LineageGraph, to_mermaid

FONT_PT = 8.0
CHAR_IN = FONT_PT * 0.62 / 72  # average glyph width of DejaVu Sans at FONT_PT, in inches
LINE_IN = FONT_PT * 1.45 / 72
PAD_IN = 0.08
GAP_X_IN, GAP_Y_IN = 0.55, 0.22
_ARC_RAD = -0.18  # edges that skip a column bow upwards, over the boxes between
_EDGE = {"run": "#3b6fb6", "eval": "#c77a1a", "dataset": "#3d8b3d", "model": "#7d4fa0",
         "pipeline": "#777777"}


def layout(graph: LineageGraph) -> dict[str, tuple[float, float, float, float]]:
    """Node id -> (center x, center y, width, height) in inches; inputs left, results right."""
    layers = _layers(graph)
    columns: dict[int, list[str]] = defaultdict(list)
    for node in graph.nodes:
        columns[layers[node.id]].append(node.id)
    parents: dict[str, list[str]] = defaultdict(list)
    for source, target in graph.edges:
        parents[target].append(source)
    rank: dict[str, float] = {}
    for depth in sorted(columns):
        column = columns[depth]
        for index, node_id in enumerate(column):
            rows = [rank[p] for p in parents[node_id] if p in rank]
            rank[node_id] = sum(rows) / len(rows) if rows else float(index)
        column.sort(key=lambda n: rank[n])
        for index, node_id in enumerate(column):
            rank[node_id] = float(index)
    sizes = {n.id: _size(n) for n in graph.nodes}
    placed: dict[str, tuple[float, float, float, float]] = {}
    x = 0.0
    heights = {d: sum(sizes[n][1] for n in c) + GAP_Y_IN * (len(c) - 1)
               for d, c in columns.items()}
    tallest = max(heights.values(), default=0.0)
    for depth in sorted(columns):
        width = max(sizes[n][0] for n in columns[depth])
        y = (tallest + heights[depth]) / 2  # center each column vertically
        for node_id in columns[depth]:
            w, h = sizes[node_id]
            placed[node_id] = (x + width / 2, y - h / 2, w, h)
            y -= h + GAP_Y_IN
        x += width + GAP_X_IN
    return placed


def _layers(graph: LineageGraph) -> dict[str, int]:
    incoming: dict[str, int] = {n.id: 0 for n in graph.nodes}
    for _, target in graph.edges:
        incoming[target] += 1
    layer = {n: 0 for n in incoming}
    ready = [n for n, count in incoming.items() if count == 0]
    while ready:
        node = ready.pop(0)
        for source, target in graph.edges:
            if source != node:
                continue
            layer[target] = max(layer[target], layer[node] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return layer


def _size(node: GraphNode) -> tuple[float, float]:
    texts = [node.title, *node.lines]
    width = max(len(t) for t in texts) * CHAR_IN + 2 * PAD_IN
    return width, len(texts) * LINE_IN + 2 * PAD_IN


def figure(graph: LineageGraph) -> Any:
    """A matplotlib Figure of the graph (Agg backend; no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    boxes = layout(graph)
    layers = _layers(graph)
    right = max((x + w / 2 for x, _, w, _ in boxes.values()), default=1.0)
    top = max((y + h / 2 for _, y, _, h in boxes.values()), default=1.0)
    arcs = {(s, t): _ARC_RAD if layers[t] - layers[s] > 1 else 0.0 for s, t in graph.edges}
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
        sx, sy, sw, _ = boxes[source]
        tx, ty, tw, _ = boxes[target]
        rad = arcs[(source, target)]
        start = (sx + sw / 2, sy) if not rad else (sx, sy + boxes[source][3] / 2)
        end = (tx - tw / 2, ty) if not rad else (tx, ty + boxes[target][3] / 2)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, lw=0.9,
                                     connectionstyle=f"arc3,rad={rad}",
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
