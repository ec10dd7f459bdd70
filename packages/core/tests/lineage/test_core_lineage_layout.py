"""The lineage picture's layout: short chains read left to right; long ones turn to run top
to bottom and wrap wide layers, so the picture stays legible at the UI's preview width."""

from __future__ import annotations

from codekiln_core.lineage.graph import GraphNode, LineageGraph
from codekiln_core.lineage.layout import MAX_WIDTH_IN, layout


def _chain(runs: int, inputs_of_first: int = 1) -> LineageGraph:
    graph = LineageGraph("test")
    previous = None
    for index in range(runs):
        run = graph.add(GraphNode(f"run_{index}", "run", f"cmd.{index}", ["finished"]))
        if previous is not None:
            data = graph.add(GraphNode(f"data_{index}", "dataset", f"out-{index}",
                                       ["digest 01234567"]))
            graph.link(previous, data)
            graph.link(data, run)
        previous = run
    for index in range(inputs_of_first):
        raw = graph.add(GraphNode(f"raw_{index}", "dataset", f"raw-input-{index}",
                                  ["/src", "digest fedcba9876543210"]))
        graph.link(raw, "run_0")
    return graph


def _inside(placed: dict[str, tuple[float, float, float, float]], width: float) -> bool:
    return all(x - w / 2 >= -1e-9 and x + w / 2 <= width + 1e-9
               for x, _, w, _ in placed.values())


def test_a_short_chain_reads_left_to_right() -> None:
    placed = layout(_chain(2))
    assert placed.orientation == "LR"
    xs = [placed.boxes[n][0] for n in ("raw_0", "run_0", "data_1", "run_1")]
    assert xs == sorted(xs) and len(set(xs)) == 4


def test_a_long_chain_runs_top_to_bottom_within_the_preview_width() -> None:
    placed = layout(_chain(15))
    assert placed.orientation == "TB"
    assert placed.width <= MAX_WIDTH_IN and _inside(placed.boxes, placed.width)
    ys = [placed.boxes[f"run_{i}"][1] for i in range(15)]
    assert ys == sorted(ys, reverse=True), "each run below the one it read from"
    assert placed.height > placed.width


def test_a_wide_layer_wraps_onto_lines_no_wider_than_the_preview() -> None:
    placed = layout(_chain(15, inputs_of_first=12))
    assert placed.width <= MAX_WIDTH_IN and _inside(placed.boxes, placed.width)
    raw_rows = {placed.boxes[f"raw_{i}"][1] for i in range(12)}
    assert len(raw_rows) > 1, "the twelve raw inputs wrap onto several lines"
    assert min(raw_rows) > placed.boxes["run_0"][1], "all of them above the run reading them"


def test_an_input_sits_just_above_its_first_reader() -> None:
    graph = _chain(15)
    late = graph.add(GraphNode("bench", "dataset", "benchmark", ["digest 01"]))
    graph.link(late, "run_14")
    placed = layout(graph)
    assert placed.layers["bench"] == placed.layers["run_14"] - 1
