"""Wrap one command's work in its lineage run: the one way commands record themselves.

Every registered command's work runs inside :func:`lineage_command`, opened by core's
command path (:mod:`codekiln_core.cli.invoke`); code that is not a registered command
(a server's lifetime) uses it directly::

    from codekiln_core.lineage.command import lineage_command

    with lineage_command("serve", config=settings, inputs=[model_dir]) as run:
        ...  # the work
        run.log_metrics({"requests": n}, step=step)
        run.log_output(out_dir, name="report")   # or run.log_model(...)

It records the *resolved* configuration (paths absolute, models dumped to JSON), the recipe
file as written (artifact ``recipe/<name>``), the inputs with their upstream runs, marks
the run FAILED when the body raises (KILLED on an interrupt), and fires the lifecycle hooks
``codekiln_run_started`` / ``codekiln_run_finished``. Once the run has ended it writes the
links people follow in the MLflow UI: the run's description (upstream and downstream runs),
its upstream runs' descriptions, and the registered versions it made or read
(:mod:`codekiln_core.lineage.publish`). With ``enabled=False`` it touches no store and yields
a handle whose methods do nothing, so the body never branches on lineage.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel

from codekiln_core.lineage.refs import InputRef
from codekiln_core.lineage.run import TAG_RECIPE, LineageRun, lineage_run
from codekiln_core.registry import Registry

#: Sources with one of these schemes are references to runs or models, not local paths.
URI_PREFIXES = ("runs:/", "models:/", "http://", "https://", "hf://", "s3://", "gs://")

Input = InputRef | str | Path


@contextmanager
def lineage_command(
    command: str,
    *,
    config: BaseModel | Mapping[str, Any] | None = None,
    inputs: Iterable[Input] = (),
    recipe_file: str | Path | None = None,
    enabled: bool = True,
    announce: bool = True,
    resume_run_id: str | None = None,
) -> Iterator[LineageRun]:
    """Run the body as the MLflow run of ``command`` (dotted: ``<group>.<command>``).

    ``config``: the validated recipe or settings (a pydantic model or a mapping); recorded as
    ``config.json`` and flattened params with every ``Path`` made absolute. ``inputs``: local
    paths (a codekiln marker there links the upstream run), ``runs:/``/``models:/`` URIs, or
    ready :class:`InputRef`s. ``recipe_file``: the YAML the user passed, logged unchanged.
    ``announce``: fire ``codekiln_run_started`` / ``codekiln_run_finished`` (every process
    that records a run does; ranks above 0 of a distributed run do not), lineage or not.
    ``resume_run_id``: continue that interrupted run instead of starting one.
    """
    refs = [as_input_ref(item) for item in inputs] if enabled else []
    resolved = resolved_config(config) if config is not None else {}
    hooks = lifecycle_hooks() if announce else None
    status = "FAILED"
    run = LineageRun(None)
    try:
        with lineage_run(command, config=resolved if config is not None else None,
                         inputs=refs, enabled=enabled, resume_run_id=resume_run_id) as run:
            if recipe_file is not None and Path(recipe_file).is_file():
                run.log_artifact(Path(recipe_file), "recipe")
                run.set_tags({TAG_RECIPE: str(Path(recipe_file).resolve())})
            if hooks is not None:
                hooks.run_started(command, run.run_id, resolved)
            try:
                yield run
                status = run.end_status
            except KeyboardInterrupt:
                status = "KILLED"
                raise
            finally:
                if hooks is not None:
                    hooks.run_finished(command, run.run_id, status, run.outcome_metrics)
    finally:
        if run.enabled and status != "KILLED":
            publish_links(run, finished=status == "FINISHED")


def publish_links(run: LineageRun, *, finished: bool) -> None:
    """Best effort, once the run has ended: descriptions, model metrics and registered
    versions (:mod:`codekiln_core.lineage.publish`). What cannot be written is reported on
    stderr and never fails the command whose work is done."""
    try:
        from codekiln_core.lineage.publish import publish_run

        publish_run(run._client_(), run._id(), run.outcome_metrics, finished=finished)
    except Exception as exc:  # reported, never raised
        import sys

        print(f"codekiln: run {run.run_id}: MLflow descriptions not updated "
              f"({type(exc).__name__}: {str(exc)[:300]})", file=sys.stderr)


def lifecycle_hooks() -> Registry:
    """The process's registry, whose lifecycle hooks every command run announces itself to."""
    from codekiln_core.plugins import shared_plugin_manager

    return Registry(shared_plugin_manager())


def as_input_ref(item: Input) -> InputRef:
    """A path becomes ``InputRef.from_path``; a URI keeps its text as the source."""
    if isinstance(item, InputRef):
        return item
    text = str(item)
    if isinstance(item, str) and text.startswith(URI_PREFIXES):
        name = text.rstrip("/").rsplit("/", 1)[-1] or text
        return InputRef(name=name, source=text)
    return InputRef.from_path(Path(item))


def resolved_config(config: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready config with absolute paths: what actually ran, not what was typed."""
    raw = config.model_dump() if isinstance(config, BaseModel) else dict(config)
    out = _jsonable(raw)
    assert isinstance(out, dict)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _jsonable(value.model_dump())
    if isinstance(value, PurePath):
        return str(Path(value).expanduser().absolute())
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
