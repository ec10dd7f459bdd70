"""The chain as a graph (runs, datasets, models, evaluations), and its Mermaid and DOT text.

Datasets are nodes keyed by (source, digest): the output a run logged and the input a later
run read are the same node, so the picture shows data flowing, not just runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Literal

from codekiln_core.lineage.chain import Chain, DatasetLink, RunNode

NodeKind = Literal["run", "dataset", "model", "eval", "pipeline"]
#: Metrics shown on a run's node (evaluations show every pass@k).
_SHOWN_METRICS = 3


@dataclass
class GraphNode:
    id: str
    kind: NodeKind
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class LineageGraph:
    title: str
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def node(self, node_id: str) -> GraphNode:
        return next(n for n in self.nodes if n.id == node_id)

    def add(self, node: GraphNode) -> str:
        if all(n.id != node.id for n in self.nodes):
            self.nodes.append(node)
        return node.id

    def link(self, source: str, target: str) -> None:
        if (source, target) not in self.edges and source != target:
            self.edges.append((source, target))

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "nodes": [asdict(n) for n in self.nodes],
                           "edges": [list(e) for e in self.edges]}, indent=2)


def build_graph(chain: Chain) -> LineageGraph:
    """Runs from the chain (and the runs that used it), their datasets and models."""
    graph = LineageGraph(f"lineage of {chain.ref}")
    runs = [r for r in chain.runs + chain.downstream if not _is_pipeline(r)]
    pipelines = [r for r in chain.runs if _is_pipeline(r)]
    if pipelines:
        graph.title = f"pipeline run {pipelines[0].run_id[:12]} ({len(runs)} steps)"
    by_id = {r.run_id: r for r in runs}
    for run in runs:
        graph.add(_run_node(run))
    for run in runs:
        for out in run.outputs:
            graph.link(_rid(run), graph.add(_dataset_node(out)))
        for model in _model_nodes(run):
            graph.link(_rid(run), graph.add(model))
        for inp in run.inputs:
            target = _input_node(inp, by_id.get(inp.upstream_run_id or ""))
            graph.add(target)
            graph.link(target.id, _rid(run))
            upstream = by_id.get(inp.upstream_run_id or "")
            if upstream is not None and not any(e[1] == target.id for e in graph.edges):
                graph.link(_rid(upstream), target.id)
        for upstream_id in run.upstream:
            if upstream_id in by_id and not _connected(graph, _rid(by_id[upstream_id]),
                                                       _rid(run)):
                graph.link(_rid(by_id[upstream_id]), _rid(run))
    return graph


def _is_pipeline(run: RunNode) -> bool:
    return bool(run.steps) or run.command == "run"


def _rid(run: RunNode) -> str:
    return f"run_{run.run_id}"


def _run_node(run: RunNode) -> GraphNode:
    passk = {k: v for k, v in sorted(run.metrics.items()) if k.startswith("pass_at_")}
    lines = [f"run {run.run_id[:8]}  {run.status.lower()}"]
    if passk:
        lines.extend(f"{k.replace('_at_', '@')} = {v:.3f}" for k, v in passk.items())
        return GraphNode(_rid(run), "eval", run.command, lines)
    shown = [k for k in sorted(run.metrics) if "class" not in k][:_SHOWN_METRICS]
    lines.extend(f"{k} = {_number(run.metrics[k])}" for k in shown)
    return GraphNode(_rid(run), "run", run.command, lines)


def _dataset_key(source: str, digest: str) -> str:
    return "data_" + hashlib.sha256(f"{source}|{digest}".encode()).hexdigest()[:12]


def _dataset_node(link: DatasetLink) -> GraphNode:
    where = PurePath(link.source).name or link.source
    return GraphNode(_dataset_key(link.source, link.digest), "dataset", link.name,
                     [where, f"digest {link.digest[:16]}"])


def _model_nodes(run: RunNode) -> list[GraphNode]:
    if run.registered:
        return [GraphNode(_model_key(f"models:/{v}"), "model", f"models:/{v}",
                          [f"logged {m[:14]}" for m in run.models[:1]]) for v in run.registered]
    return [GraphNode(_model_key(m), "model", "logged model", [m[:20]]) for m in run.models]


def _model_key(ref: str) -> str:
    return "model_" + hashlib.sha256(ref.encode()).hexdigest()[:12]


def _input_node(link: DatasetLink, upstream: RunNode | None) -> GraphNode:
    if link.source.startswith("models:/"):
        return GraphNode(_model_key(link.source), "model", link.source, [])
    if upstream is not None and link.model in upstream.models:  # a model directory it logged
        made = _model_nodes(upstream)
        return made[min(upstream.models.index(link.model), len(made) - 1)]
    if upstream is not None:
        for out in upstream.outputs:
            if out.source == link.source:
                return _dataset_node(out)
    return _dataset_node(link)


def _connected(graph: LineageGraph, source: str, target: str) -> bool:
    frontier, seen = [source], set()
    while frontier:
        node = frontier.pop()
        if node == target:
            return True
        seen.add(node)
        frontier.extend(t for s, t in graph.edges if s == node and t not in seen)
    return False


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:.4g}"


# -- text formats -------------------------------------------------------------------------

_MERMAID_SHAPES = {"run": ('["', '"]'), "eval": ('{{"', '"}}'), "dataset": ('[("', '")]'),
                   "model": ('[/"', '"/]'), "pipeline": ('["', '"]')}
_DOT_SHAPES = {"run": "box", "eval": "box", "dataset": "cylinder", "model": "component",
               "pipeline": "box"}
FILL = {"run": "#dbe8fb", "eval": "#fde7c8", "dataset": "#e3f4e1", "model": "#efe1f7",
        "pipeline": "#eeeeee"}


def to_mermaid(graph: LineageGraph) -> str:
    """A Mermaid flowchart (renders on GitHub and in most Markdown viewers)."""
    out = ["flowchart LR", f"  %% {graph.title}"]
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        text = "<br/>".join(_escape_mermaid(t) for t in [f"<b>{node.title}</b>", *node.lines])
        out.append(f"  {node.id}{opening}{text}{closing}")
    out.extend(f"  {source} --> {target}" for source, target in graph.edges)
    out.extend(f"  style {n.id} fill:{FILL[n.kind]}" for n in graph.nodes)
    return "\n".join(out)


def _escape_mermaid(text: str) -> str:
    return text.replace('"', "#quot;")


def to_dot(graph: LineageGraph) -> str:
    """Graphviz DOT text: ``codekiln lineage show REF --format dot | dot -Tsvg``."""
    out = ["digraph lineage {", "  rankdir=LR;", f"  label={_quote(graph.title)};",
           '  node [fontname="Helvetica", fontsize=10, style=filled];']
    for node in graph.nodes:
        label = "\\n".join(_dot_text(t) for t in [node.title, *node.lines])
        out.append(f'  {node.id} [shape={_DOT_SHAPES[node.kind]}, label="{label}", '
                   f'fillcolor="{FILL[node.kind]}"];')
    out.extend(f"  {source} -> {target};" for source, target in graph.edges)
    out.append("}")
    return "\n".join(out)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _quote(text: str) -> str:
    return '"' + _dot_text(text) + '"'
