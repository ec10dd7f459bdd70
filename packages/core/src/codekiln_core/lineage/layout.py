"""Where each box of a lineage picture goes: a small layered (Sugiyama-style) layout.

Layers by longest path from the raw inputs (an input with no producer sits just above the
first run that reads it), boxes in a layer ordered by the mean position of their parents.
A short chain reads left to right; a chain wider than :data:`MAX_WIDTH_IN` turns to run top
to bottom, and a layer wider than that wraps onto several lines, so the picture keeps its
text legible at the width the MLflow UI previews an image (700 to 1,000 pixels).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from codekiln_core.lineage.graph import GraphNode, LineageGraph

FONT_PT = 8.0
CHAR_IN = FONT_PT * 0.62 / 72  # average glyph width of DejaVu Sans at FONT_PT, in inches
LINE_IN = FONT_PT * 1.45 / 72
PAD_IN = 0.08
GAP_X_IN, GAP_Y_IN = 0.55, 0.22  # between columns / between boxes of a column (LR)
GAP_LAYER_IN, GAP_WRAP_IN = 0.42, 0.16  # between layers / between wrapped lines (TB)
#: Widest picture, in inches: 8 in at the 120 dpi the PNG is written at is 960 px, which the
#: UI's artifact preview (725 px wide beside the Assistant panel on a 1680 px window, 1,050
#: without it) shows with text of 10 px or more.
MAX_WIDTH_IN = 8.0

Box = tuple[float, float, float, float]  # center x, center y, width, height (inches, y up)


@dataclass
class Layout:
    boxes: dict[str, Box]
    layers: dict[str, int]
    orientation: Literal["LR", "TB"]

    @property
    def width(self) -> float:
        return max((x + w / 2 for x, _, w, _ in self.boxes.values()), default=1.0)

    @property
    def height(self) -> float:
        return max((y + h / 2 for _, y, _, h in self.boxes.values()), default=1.0)


def layout(graph: LineageGraph, max_width_in: float = MAX_WIDTH_IN) -> Layout:
    """Left to right when it fits in ``max_width_in``, else top to bottom, wrapped."""
    layers = _layers(graph)
    columns = _ordered_layers(graph, layers)
    sizes = {n.id: box_size(n) for n in graph.nodes}
    wide = Layout(_left_to_right(columns, sizes), layers, "LR")
    if wide.width <= max_width_in:
        return wide
    return Layout(_top_to_bottom(columns, sizes, max_width_in), layers, "TB")


def box_size(node: GraphNode) -> tuple[float, float]:
    texts = [node.title, *node.lines]
    width = max(len(t) for t in texts) * CHAR_IN + 2 * PAD_IN
    return width, len(texts) * LINE_IN + 2 * PAD_IN


def _layers(graph: LineageGraph) -> dict[str, int]:
    """Longest path from a source; then each source moves down to just above its first
    reader (a benchmark file sits by its evaluation, not beside the raw code)."""
    incoming: dict[str, int] = {n.id: 0 for n in graph.nodes}
    for _, target in graph.edges:
        incoming[target] += 1
    sources = {n for n, count in incoming.items() if count == 0}
    layer = dict.fromkeys(incoming, 0)
    ready = sorted(sources, key=list(incoming).index)
    while ready:
        node = ready.pop(0)
        for source, target in graph.edges:
            if source != node:
                continue
            layer[target] = max(layer[target], layer[node] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    for node in sources:
        readers = [layer[t] for s, t in graph.edges if s == node]
        if readers:
            layer[node] = max(0, min(readers) - 1)
    return layer


def _ordered_layers(graph: LineageGraph, layers: dict[str, int]) -> list[list[str]]:
    """Node ids per layer, each layer ordered by the mean rank of its nodes' parents."""
    by_depth: dict[int, list[str]] = defaultdict(list)
    for node in graph.nodes:
        by_depth[layers[node.id]].append(node.id)
    parents: dict[str, list[str]] = defaultdict(list)
    for source, target in graph.edges:
        parents[target].append(source)
    rank: dict[str, float] = {}
    ordered = []
    for depth in sorted(by_depth):
        column = by_depth[depth]
        for index, node_id in enumerate(column):
            rows = [rank[p] for p in parents[node_id] if p in rank]
            rank[node_id] = sum(rows) / len(rows) if rows else float(index)
        column.sort(key=lambda n: rank[n])
        for index, node_id in enumerate(column):
            rank[node_id] = float(index)
        ordered.append(column)
    return ordered


def _left_to_right(columns: list[list[str]], sizes: dict[str, tuple[float, float]]
                   ) -> dict[str, Box]:
    placed: dict[str, Box] = {}
    heights = [sum(sizes[n][1] for n in c) + GAP_Y_IN * (len(c) - 1) for c in columns]
    tallest = max(heights, default=0.0)
    x = 0.0
    for column, height in zip(columns, heights, strict=True):
        width = max(sizes[n][0] for n in column)
        y = (tallest + height) / 2  # each column centred vertically
        for node_id in column:
            w, h = sizes[node_id]
            placed[node_id] = (x + width / 2, y - h / 2, w, h)
            y -= h + GAP_Y_IN
        x += width + GAP_X_IN
    return placed


def _top_to_bottom(layers: list[list[str]], sizes: dict[str, tuple[float, float]],
                   max_width_in: float) -> dict[str, Box]:
    """Layers as rows from the top; a row too wide wraps onto the next line."""
    lines = [line for layer in layers for line in _wrap(layer, sizes, max_width_in)]
    widest = max((_line_width(line, sizes) for line, _ in lines), default=0.0)
    placed: dict[str, Box] = {}
    y = 0.0  # downwards from the top; flipped below
    for index, (line, first) in enumerate(lines):
        if index:
            y += GAP_LAYER_IN if first else GAP_WRAP_IN
        height = max(sizes[n][1] for n in line)
        x = (widest - _line_width(line, sizes)) / 2
        for node_id in line:
            w, h = sizes[node_id]
            placed[node_id] = (x + w / 2, y + height / 2, w, h)
            x += w + GAP_X_IN / 2
        y += height
    return {n: (x, y - cy, w, h) for n, (x, cy, w, h) in placed.items()}


def _wrap(layer: list[str], sizes: dict[str, tuple[float, float]], max_width_in: float
          ) -> list[tuple[list[str], bool]]:
    """The layer as lines no wider than ``max_width_in``; True marks a layer's first line."""
    lines: list[list[str]] = [[]]
    for node_id in layer:
        if lines[-1] and _line_width([*lines[-1], node_id], sizes) > max_width_in:
            lines.append([])
        lines[-1].append(node_id)
    return [(line, index == 0) for index, line in enumerate(lines)]


def _line_width(line: list[str], sizes: dict[str, tuple[float, float]]) -> float:
    return sum(sizes[n][0] for n in line) + GAP_X_IN / 2 * (len(line) - 1)
