"""Walk a model or run back, run by run, to its raw inputs (and list what used it)."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import LineageError
from codekiln_core.lineage.resolve import run_id_of
from codekiln_core.lineage.run import (
    TAG_COMMAND,
    TAG_INPUT_MODEL,
    TAG_INPUT_UPSTREAM,
    TAG_UPSTREAM,
)
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
    model: str | None = None  # a model input: its logged model id, or "external"


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
    metrics: dict[str, float] = field(default_factory=dict)
    registered: list[str] = field(default_factory=list)  # NAME/VERSION of registered models
    steps: list[str] = field(default_factory=list)  # a pipeline's step runs (`codekiln run`)
    experiment_id: str = ""
    end_time: int | None = None  # ms since the epoch; None while running
    model_inputs: list[str] = field(default_factory=list)  # logged models it read


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
    return walk(client, experiment_id, run_id_of(client, ref), ref)


def walk(client: MlflowClient, experiment_id: str, start: str, ref: str) -> Chain:
    """The chain from run ``start`` back to its raw inputs, and the runs that used it."""
    seen: set[str] = set()
    runs: list[RunNode] = []
    queue = deque([start])
    while queue:
        run_id = queue.popleft()
        if run_id in seen:
            continue
        seen.add(run_id)
        node = run_node(client.get_run(run_id))
        add_registered(client, node)
        runs.append(node)
        queue.extend(node.steps)
        queue.extend(node.upstream)
    return Chain(ref, runs, downstream_runs(client, experiment_id, start))


def run_node(run: Run) -> RunNode:
    """What one MLflow run says about its place in the chain."""
    tags = run.data.tags
    node = RunNode(
        run_id=run.info.run_id,
        command=tags.get(TAG_COMMAND, run.info.run_name or "?"),
        status=run.info.status,
        upstream=[r for r in tags.get(TAG_UPSTREAM, "").split(",") if r],
        metrics={k: float(v) for k, v in run.data.metrics.items()},
        steps=_step_runs(tags),
        experiment_id=str(run.info.experiment_id),
        end_time=run.info.end_time,
    )
    for dataset_input in run.inputs.dataset_inputs if run.inputs else []:
        input_tags = {t.key: t.value for t in dataset_input.tags}
        dataset = dataset_input.dataset
        link = DatasetLink(dataset.name, _source_uri(dataset.source), dataset.digest,
                           input_tags.get(TAG_INPUT_UPSTREAM), input_tags.get(TAG_INPUT_MODEL))
        is_output = input_tags.get("mlflow.data.context") == "output"
        (node.outputs if is_output else node.inputs).append(link)
    # search_runs leaves model_inputs out; the dataset input of a model names it as well
    logged = [m.model_id for m in run.inputs.model_inputs] if run.inputs else []
    tagged = [i.model for i in node.inputs if i.model and i.model != "external"]
    node.model_inputs = list(dict.fromkeys([*logged, *tagged]))
    if run.outputs and run.outputs.model_outputs:
        node.models = [m.model_id for m in run.outputs.model_outputs]
    return node


def _step_runs(tags: dict[str, str]) -> list[str]:
    from codekiln_core.pipeline.parent import TAG_STEP_RUNS

    try:
        runs = json.loads(tags.get(TAG_STEP_RUNS, "{}"))
    except ValueError:
        return []
    return [str(r) for r in runs.values() if r] if isinstance(runs, dict) else []


def add_registered(client: MlflowClient, node: RunNode) -> None:
    """Fill ``node.registered`` with the versions registered from its logged models."""
    if not node.models:
        return
    versions = client.search_model_versions(f"run_id = '{node.run_id}'")
    node.registered = sorted(f"{v.name}/{v.version}" for v in versions)


def downstream_runs(client: MlflowClient, experiment_id: str, run_id: str) -> list[RunNode]:
    """Runs that read an output of ``run_id`` (oldest first)."""
    found = client.search_runs([experiment_id], f"tags.`{TAG_UPSTREAM}` LIKE '%{run_id}%'",
                               order_by=["attributes.start_time ASC"])
    return [run_node(run) for run in found]


def _source_uri(source: str) -> str:
    try:
        parsed: Any = json.loads(source)
    except ValueError:
        return source
    return str(parsed.get("uri", source)) if isinstance(parsed, dict) else source


def render_chain(chain: Chain) -> str:
    """Human-readable chain as a tree: each run's upstream runs (and a pipeline's steps) are
    its children, side by side at one level; a run reached twice is drawn once."""
    lines = [f"lineage of {chain.ref}"]
    if chain.runs:
        by_id = {run.run_id: run for run in chain.runs}
        shown = {chain.runs[0].run_id}
        _draw_run(chain.runs[0], "", "", by_id, shown, lines)
        for run in chain.runs:  # runs no drawn run links to (not expected; never hidden)
            if run.run_id not in shown:
                shown.add(run.run_id)
                _draw_run(run, "", "", by_id, shown, lines)
    lines.append("raw inputs:")
    raw = dict.fromkeys(f"  {i.name}  {i.source}  ({i.digest})" for i in chain.raw_inputs)
    lines.extend(raw)  # one line per raw input, however many runs read it
    if chain.downstream:
        lines.append("used by:")
        for r in chain.downstream:
            shown_k = "".join(f"  {k}={v:.3f}" for k, v in sorted(r.metrics.items())
                              if k.startswith("pass_at_"))
            lines.append(f"  {r.command}  run {r.run_id}  [{r.status}]{shown_k}")
    return "\n".join(lines)


def _draw_run(run: RunNode, lead: str, pad: str, by_id: dict[str, RunNode], shown: set[str],
              lines: list[str]) -> None:
    """``lead``: this run's own prefix; ``pad``: the prefix of everything below it."""
    lines.append(f"{lead}{run.command}  run {run.run_id}  [{run.status}]")
    children = [by_id[r] for r in dict.fromkeys([*run.steps, *run.upstream]) if r in by_id]
    detail_pad = pad + ("│  " if children else "   ")
    lines.extend(f"{detail_pad}{detail}" for detail in _details(run))
    for index, child in enumerate(children):
        last = index == len(children) - 1
        branch, below = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if child.run_id in shown:
            lines.append(f"{pad}{branch}{child.command}  run {child.run_id}  (shown above)")
            continue
        shown.add(child.run_id)
        _draw_run(child, pad + branch, pad + below, by_id, shown, lines)


def _details(run: RunNode) -> list[str]:
    details = [f"out: {out.name}  {out.source}  ({out.digest})" for out in run.outputs]
    details.extend(f"model: {model}" for model in run.models)
    details.extend(f"registered: models:/{version}" for version in run.registered)
    passk = {k: v for k, v in run.metrics.items() if k.startswith("pass_at_")}
    if passk:
        details.append("  ".join(f"{k}={v:.3f}" for k, v in sorted(passk.items())))
    for inp in run.inputs:
        origin = f"from run {inp.upstream_run_id}" if inp.upstream_run_id else "raw"
        details.append(f"in:  {inp.name}  {inp.source}  ({inp.digest}, {origin})")
    return details
