"""Walk a model or run back, run by run, to its raw inputs (and list what used it)."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import LineageError
from codekiln_core.lineage.resolve import run_id_of
from codekiln_core.lineage.run import TAG_COMMAND, TAG_UPSTREAM
from codekiln_core.lineage.store import connect

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run


@dataclass
class DatasetLink:
    name: str
    source: str
    digest: str
    upstream_run_id: str | None = None


@dataclass
class RunNode:
    """One run of the chain with what went in and what came out."""

    run_id: str
    command: str
    status: str
    inputs: list[DatasetLink] = field(default_factory=list)
    outputs: list[DatasetLink] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)


@dataclass
class Chain:
    """Runs from the requested one back to the raw inputs, plus runs that consumed it."""

    ref: str
    runs: list[RunNode]
    downstream: list[RunNode]

    @property
    def raw_inputs(self) -> list[DatasetLink]:
        return [i for run in self.runs for i in run.inputs if not i.upstream_run_id]

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"raw_inputs": [asdict(i) for i in self.raw_inputs]},
                          indent=2)


def walk_chain(ref: str) -> Chain:
    """Breadth-first over the upstream tags, starting at the run behind ``ref``."""
    try:
        client, experiment_id = connect(create=False)
    except LineageError as exc:
        raise LineageError(f"cannot show {ref!r}: {exc}") from exc
    start = run_id_of(client, ref)
    seen: set[str] = set()
    runs: list[RunNode] = []
    queue = deque([start])
    while queue:
        run_id = queue.popleft()
        if run_id in seen:
            continue
        seen.add(run_id)
        node = _node(client.get_run(run_id))
        runs.append(node)
        queue.extend(node.upstream)
    return Chain(ref, runs, _downstream(client, experiment_id, start))


def _node(run: Run) -> RunNode:
    tags = run.data.tags
    node = RunNode(
        run_id=run.info.run_id,
        command=tags.get(TAG_COMMAND, run.info.run_name or "?"),
        status=run.info.status,
        upstream=[r for r in tags.get(TAG_UPSTREAM, "").split(",") if r],
    )
    for dataset_input in run.inputs.dataset_inputs if run.inputs else []:
        input_tags = {t.key: t.value for t in dataset_input.tags}
        dataset = dataset_input.dataset
        link = DatasetLink(dataset.name, _source_uri(dataset.source), dataset.digest,
                           input_tags.get("codekiln.upstream_run"))
        is_output = input_tags.get("mlflow.data.context") == "output"
        (node.outputs if is_output else node.inputs).append(link)
    if run.outputs and run.outputs.model_outputs:
        node.models = [m.model_id for m in run.outputs.model_outputs]
    return node


def _downstream(client: MlflowClient, experiment_id: str, run_id: str) -> list[RunNode]:
    found = client.search_runs([experiment_id], f"tags.`{TAG_UPSTREAM}` LIKE '%{run_id}%'")
    return [_node(run) for run in found]


def _source_uri(source: str) -> str:
    try:
        parsed: Any = json.loads(source)
    except ValueError:
        return source
    return str(parsed.get("uri", source)) if isinstance(parsed, dict) else source


def render_chain(chain: Chain) -> str:
    """Human-readable chain, newest run first, raw inputs last."""
    lines = [f"lineage of {chain.ref}"]
    for depth, run in enumerate(chain.runs):
        pad = "  " * depth
        branch = "└─ " if depth else ""
        lines.append(f"{pad}{branch}{run.command}  run {run.run_id}  [{run.status}]")
        for out in run.outputs:
            lines.append(f"{pad}     out: {out.name}  {out.source}  ({out.digest})")
        for model in run.models:
            lines.append(f"{pad}     model: {model}")
        for inp in run.inputs:
            origin = f"from run {inp.upstream_run_id}" if inp.upstream_run_id else "raw"
            lines.append(f"{pad}     in:  {inp.name}  {inp.source}  ({inp.digest}, {origin})")
    lines.append("raw inputs:")
    lines.extend(f"  {i.name}  {i.source}  ({i.digest})" for i in chain.raw_inputs)
    if chain.downstream:
        lines.append("used by:")
        lines.extend(f"  {r.command}  run {r.run_id}  [{r.status}]" for r in chain.downstream)
    return "\n".join(lines)
