"""What a finished command leaves in the MLflow UI besides its own records.

After a command's run ends, :func:`publish_run` writes the run's description (its upstream
and downstream runs as links) and rewrites the descriptions of its upstream runs (they gain
this run as downstream). Its headline metrics are logged to the logged models it made, or
else to the models it read (an evaluation's pass@k lands on the evaluated model, with the
benchmark as the metric's dataset). Every registered version it made or read is refreshed:
description, tags and, when it registers or evaluates, the lineage picture in the version's
source run. All of it is rendered again from the store, under a lock beside a local store,
so concurrent commands cannot leave a stale description behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from codekiln_core.lineage.chain import RunNode, add_registered, downstream_runs, run_node, walk
from codekiln_core.lineage.notes import (
    RUN_NOTE_LIMIT,
    VERSION_NOTE_LIMIT,
    Evaluation,
    StartingModel,
    VersionStory,
    fit_note,
    pipeline_note,
    run_note,
    score_tags,
    version_note,
)
from codekiln_core.lineage.run import TAG_RECIPE

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

NOTE_TAG = "mlflow.note.content"  # the run description the UI shows and edits
PICTURE_DIR = "lineage"
#: Version tags (the headline scores are ``<benchmark>.pass_at_<k>``).
TAG_BASE_MODEL, TAG_RECIPE_FILE, TAG_MADE_BY = "base_model", "recipe", "made_by"


def publish_run(client: MlflowClient, run_id: str, metrics: Mapping[str, Any], *,
                finished: bool) -> None:
    """Descriptions, model metrics and versions after run ``run_id`` ended."""
    from codekiln_core.lineage.store import store_lock

    with store_lock("notes.lock"):
        node = _node(client, run_id)
        if finished:
            log_model_metrics(client, node, metrics)
        write_run_note(client, node)
        for upstream in node.upstream:
            write_run_note(client, _node(client, upstream))
        if not finished:
            return
        evaluates = any(k.startswith("pass_at_") for k in metrics)
        for version in _versions_made(client, node):
            refresh_version(client, version, draw=True)
        for version in _versions_read(client, node):
            refresh_version(client, version, draw=evaluates)


def write_run_note(client: MlflowClient, node: RunNode) -> None:
    """The run's description from the store as it is now (upstream, downstream, picture)."""
    upstream = [_node(client, r) for r in node.upstream]
    downstream = downstream_runs(client, node.experiment_id, node.run_id)
    picture = f"{PICTURE_DIR}/lineage.png" if _has_picture(client, node.run_id) else None
    note = run_note(node, upstream, downstream, picture)
    _set_note(client, node.run_id, note)


def write_pipeline_note(client: MlflowClient, parent_run_id: str, name: str,
                        steps: list[tuple[str, str | None, str]]) -> None:
    """The pipeline's parent run description: ``steps`` are (step, run id, status)."""
    nodes = [(step, _node(client, run_id) if run_id else None, status)
             for step, run_id, status in steps]
    picture = f"{PICTURE_DIR}/lineage.png" if _has_picture(client, parent_run_id) else None
    parent = run_node(client.get_run(parent_run_id))
    _set_note(client, parent_run_id, pipeline_note(parent, name, nodes, picture))


def refresh_version(client: MlflowClient, version: ModelVersion, *, draw: bool) -> None:
    """A registered version's description and tags, and (``draw``) its picture."""
    from codekiln_core.lineage.resolve import run_id_of, version_model_id

    source_id = run_id_of(client, f"models:/{version.name}/{version.version}")
    source = client.get_run(source_id)
    chain = walk(client, str(source.info.experiment_id), source_id,
                 f"models:/{version.name}/{version.version}")
    chain.runs = [r for r in chain.runs if not r.steps]  # a pipeline's parent is no hop
    model_id = version_model_id(version)
    evaluations = [_evaluation(client, r) for r in chain.downstream
                   if r.status == "FINISHED" and _scores(r)
                   and (model_id is None or model_id in r.model_inputs)]
    story = VersionStory(version.name, str(version.version), chain.runs[0], chain.runs,
                         starting_model(chain.runs), evaluations,
                         source.data.tags.get(TAG_RECIPE))
    description = fit_note(version.description, lambda brevity: version_note(story, brevity),
                           VERSION_NOTE_LIMIT, f"… (shortened: `codekiln lineage show "
                           f"models:/{version.name}/{version.version}` prints it all)")
    if description != (version.description or ""):
        client.update_model_version(version.name, version.version, description=description)
    tags = {TAG_MADE_BY: story.source.command, **score_tags(evaluations)}
    if story.start is not None:
        tags[TAG_BASE_MODEL] = story.start.label
    if story.recipe:
        tags[TAG_RECIPE_FILE] = story.recipe
    for key, value in tags.items():
        if version.tags.get(key) != value:
            client.set_model_version_tag(version.name, version.version, key, value)
    if draw:
        draw_picture(client, source_id, chain)
        write_run_note(client, _node(client, source_id))  # it now names the picture


def draw_picture(client: MlflowClient, run_id: str, chain: Any) -> None:
    """``lineage/lineage.png`` and ``lineage.html`` of ``chain`` into run ``run_id``."""
    import tempfile
    from pathlib import Path

    from codekiln_core.lineage.draw import write_html, write_png
    from codekiln_core.lineage.graph import build_graph

    graph = build_graph(chain)
    if not graph.nodes:
        return
    with tempfile.TemporaryDirectory(prefix="codekiln-lineage-") as tmp:
        for path in (write_png(graph, Path(tmp) / "lineage.png"),
                     write_html(graph, Path(tmp) / "lineage.html")):
            client.log_artifact(run_id, str(path), PICTURE_DIR)


def log_model_metrics(client: MlflowClient, node: RunNode, metrics: Mapping[str, Any]) -> None:
    """The run's headline metrics on the models it made, else on the models it read (with
    the one dataset it read beside them, e.g. the benchmark): the model's page lists them."""
    import time

    from mlflow.entities import Metric

    numbers = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
    targets, dataset = (node.models, None) if node.models else \
        (node.model_inputs, _single_dataset(node))
    if not numbers or not targets:
        return
    name, digest = (dataset.name, dataset.digest) if dataset else (None, None)
    points: list[Metric] = []
    for key, value in sorted(numbers.items()):
        history = client.get_metric_history(node.run_id, key)
        last = max(history, key=lambda m: (m.step, m.timestamp)) if history else None
        stamp, step = (last.timestamp, last.step) if last else (int(time.time() * 1000), 0)
        value = last.value if last else value  # the same point: the run's curve is unchanged
        points.extend(Metric(key, value, stamp, step, model_id=model, dataset_name=name,
                             dataset_digest=digest) for model in targets)
    client.log_batch(node.run_id, metrics=points)


def starting_model(chain: list[RunNode]) -> StartingModel | None:
    """Follow model inputs back from the chain's first run to where training began."""
    if not chain:
        return None
    by_id = {r.run_id: r for r in chain}
    current, seen = chain[0], set()
    while current.run_id not in seen:
        seen.add(current.run_id)
        models = [i for i in current.inputs if i.model]
        if not models:  # trained from scratch: the start is what this run made
            made = current.registered[0].replace("/", " v") if current.registered else \
                (current.models[0] if current.models else current.command)
            return StartingModel(made, current)
        upstream = by_id.get(models[0].upstream_run_id or "")
        if upstream is None:
            return StartingModel(models[0].source)
        current = upstream
    return None


def _evaluation(client: MlflowClient, run: RunNode) -> Evaluation:
    params = client.get_run(run.run_id).data.params
    benchmarks = [i.name.removeprefix("benchmark.") for i in run.inputs
                  if i.name.startswith("benchmark.")]
    benchmark = params.get("benchmark") or (benchmarks[0] if benchmarks else run.command)
    return Evaluation(benchmark, _scores(run), params.get("n", "–"), run.end_time, run)


def _scores(run: RunNode) -> dict[str, float]:
    return {k: v for k, v in run.metrics.items() if k.startswith("pass_at_")}


def _single_dataset(node: RunNode) -> Any:
    data = [i for i in node.inputs if not i.model]
    return data[0] if len({i.name for i in data}) == 1 else None


def _versions_made(client: MlflowClient, node: RunNode) -> list[ModelVersion]:
    if not node.models:
        return []
    return list(client.search_model_versions(f"run_id = '{node.run_id}'"))


def _versions_read(client: MlflowClient, node: RunNode) -> list[ModelVersion]:
    """Registered versions of the logged models the run read."""
    from codekiln_core.lineage.resolve import version_model_id

    found: list[ModelVersion] = []
    for model_id in node.model_inputs:
        source_run = client.get_logged_model(model_id).source_run_id
        if source_run:
            found.extend(v for v in client.search_model_versions(f"run_id = '{source_run}'")
                         if version_model_id(v) == model_id)
    return found


def _node(client: MlflowClient, run_id: str) -> RunNode:
    node = run_node(client.get_run(run_id))
    add_registered(client, node)
    return node


def _has_picture(client: MlflowClient, run_id: str) -> bool:
    return any(a.path.endswith("lineage.png") for a in client.list_artifacts(run_id, PICTURE_DIR))


def _set_note(client: MlflowClient, run_id: str, note: str) -> None:
    current = client.get_run(run_id).data.tags.get(NOTE_TAG)
    merged = fit_note(current, lambda _: note, RUN_NOTE_LIMIT,
                      f"… (shortened: `codekiln lineage show {run_id}` prints it all)")
    if merged != current:
        client.set_tag(run_id, NOTE_TAG, merged)

