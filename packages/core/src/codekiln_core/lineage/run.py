"""The per-command MLflow run: inputs, config, versions, git SHA, upstream links, outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.lineage.refs import (
    InputRef,
    digest_path,
    git_sha,
    looks_like_model,
    write_marker,
)
from codekiln_core.lineage.store import connect, tracking_uri
from codekiln_core.plots import Curves
from codekiln_core.versions import installed_versions

if TYPE_CHECKING:
    from mlflow import MlflowClient

TAG_COMMAND = "codekiln.command"
TAG_UPSTREAM = "codekiln.upstream_runs"
TAG_OUTPUTS = "codekiln.outputs"
TAG_VERSIONS = "codekiln.versions"
TAG_GIT_SHA = "codekiln.git_sha"
#: The recipe file the command was given (the run also keeps it as artifact ``recipe/``).
TAG_RECIPE = "codekiln.recipe"
#: On a dataset input: the run that made it; and, for a model input, the logged model id
#: (``external`` for a model no codekiln run logged: a Hub id, a downloaded directory).
TAG_INPUT_UPSTREAM = "codekiln.upstream_run"
TAG_INPUT_MODEL = "codekiln.model"
TAG_KILLED = "codekiln.killed"
_PARAM_VALUE_LIMIT = 6000
#: Set to 0 to keep runs from drawing their curves (plots/curves.png) when they end.
PLOTS_ENV = "CODEKILN_PLOTS"


class LineageRun:
    """Handle on the command's run; every method is a no-op when lineage is disabled."""

    def __init__(self, run_id: str | None, client: MlflowClient | None = None,
                 command: str = "") -> None:
        self.run_id = run_id
        self.command = command
        self._client = client
        self._outputs: list[dict[str, str]] = []
        self.curves = Curves()  # loss / lr / reward histories, drawn when the run ends
        #: The command's headline numbers, handed to ``codekiln_run_finished``.
        self.outcome_metrics: dict[str, Any] = {}
        self.end_status = "FINISHED"  # what the run ends as when the body returns

    @property
    def enabled(self) -> bool:
        return self.run_id is not None and self._client is not None

    def log_params(self, params: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        from mlflow.entities import Param

        items = [Param(k, str(v)[:_PARAM_VALUE_LIMIT]) for k, v in sorted(params.items())]
        for start in range(0, len(items), 100):  # MLflow accepts at most 100 per batch
            self._client_().log_batch(self._id(), params=items[start : start + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        if not self.enabled:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.curves.add(metrics, step)
        items = [Metric(k, float(v), now, step) for k, v in sorted(metrics.items())]
        for start in range(0, len(items), 1000):
            self._client_().log_batch(self._id(), metrics=items[start : start + 1000])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        if not self.enabled:
            return
        from mlflow.entities import RunTag

        items = [RunTag(k, str(v)[:5000]) for k, v in sorted(tags.items())]
        self._client_().log_batch(self._id(), tags=items)

    def end_killed(self, reason: str) -> None:
        """End as KILLED (stopped from outside with work cut off), ``reason`` in a tag."""
        self.end_status = "KILLED"
        if self.enabled:
            self._client_().set_tag(self._id(), TAG_KILLED, reason[:5000])

    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> None:
        if not self.enabled:
            return
        path = Path(local_path)
        if path.is_dir():
            self._client_().log_artifacts(self._id(), str(path), artifact_path)
        else:
            self._client_().log_artifact(self._id(), str(path), artifact_path)

    def log_output(self, path: str | Path, *, name: str) -> str:
        """Log a dataset this run produced and mark it so downstream runs link back here."""
        resolved = Path(path).resolve()
        digest = digest_path(resolved)
        if not self.enabled:
            return digest
        self._log_dataset(InputRef(name, str(resolved), digest, self.run_id), context="output",
                          made_by=self.command)
        self._outputs.append({"name": name, "source": str(resolved), "digest": digest})
        self._client_().set_tag(self._id(), TAG_OUTPUTS, json.dumps(self._outputs)[:5000])
        write_marker(resolved, self._marker(name, digest))
        return digest

    def log_model(
        self, model_dir: str | Path, *, name: str, register_as: str | None = None
    ) -> str:
        """Log a checkpoint directory as an MLflow logged model; optionally register it.
        A resumed run that logged these same files before reuses that model and version."""
        if not self.enabled:
            return str(Path(model_dir).resolve())
        from codekiln_core.lineage.logged_models import log_model_once

        resolved = Path(model_dir).resolve()
        model_id, uri = log_model_once(self._client_(), self._id(), resolved, name=name,
                                       register_as=register_as)
        write_marker(resolved, self._marker(name, model_id, model_uri=uri, model_id=model_id))
        return uri

    def write_curves(self) -> list[str]:
        """Log ``plots/curves.png`` and ``plots/curves.json`` (the data drawn) when a loss,
        learning rate or reward was logged at two steps or more; returns the artifact paths.

        Called by :func:`lineage_run` as the run ends, so every training command gets its
        curves without plotting code of its own.
        """
        if not self.enabled:
            return []
        histories = self.curves.histories()
        if not any(len(points) >= 2 for points in histories.values()):
            return []  # the common case for data commands: matplotlib is never imported
        import tempfile

        from codekiln_core.plots import write_curves

        with tempfile.TemporaryDirectory(prefix="codekiln-curves-") as tmp:
            files = write_curves(histories, Path(tmp), title=self.command)
            for path in files:
                self._client_().log_artifact(self._id(), str(path), "plots")
        return [f"plots/{path.name}" for path in files]

    def _log_dataset(self, ref: InputRef, *, context: str, made_by: str | None = None) -> None:
        """One dataset input; its profile names the run that made it (the UI's dataset panel
        shows it) and model inputs are tagged ``codekiln.model``."""
        from mlflow.entities import Dataset, DatasetInput, InputTag

        profile = None
        if ref.upstream_run_id:
            profile = json.dumps({"made by": made_by or "a codekiln run",
                                  "made by run": ref.upstream_run_id})
        dataset = Dataset(name=ref.name, digest=ref.digest or "unknown", source_type="local",
                          source=json.dumps({"uri": ref.source}), profile=profile)
        tags = [InputTag("mlflow.data.context", context)]
        if context != "output":
            if ref.upstream_run_id:
                tags.append(InputTag(TAG_INPUT_UPSTREAM, ref.upstream_run_id))
            if ref.model_id or looks_like_model(ref.source):
                tags.append(InputTag(TAG_INPUT_MODEL, ref.model_id or "external"))
        self._client_().log_inputs(self._id(), datasets=[DatasetInput(dataset, tags)])

    def _marker(self, name: str, digest: str, **extra: str) -> dict[str, str]:
        return {"run_id": self._id(), "tracking_uri": tracking_uri(), "name": name,
                "digest": digest, **extra}

    def _client_(self) -> MlflowClient:
        assert self._client is not None
        return self._client

    def _id(self) -> str:
        assert self.run_id is not None
        return self.run_id


@contextmanager
def lineage_run(
    command: str,
    *,
    config: Mapping[str, Any] | None = None,
    inputs: Sequence[InputRef] = (),
    enabled: bool = True,
    resume_run_id: str | None = None,
) -> Iterator[LineageRun]:
    """One MLflow run for one command; FAILED when the body raises, FINISHED otherwise (or
    KILLED when the body called :meth:`LineageRun.end_killed`).

    ``resume_run_id``: an interrupted run of this command to continue (its inputs and
    config are already recorded); a new run starts when it cannot be continued.
    """
    if not enabled:
        yield LineageRun(None)
        return
    client, experiment_id = connect()
    if resume_run_id is not None:
        from codekiln_core.lineage.resume import mark_killed, reopen, seed_curves

        if reopen(client, resume_run_id, experiment_id):
            run = LineageRun(resume_run_id, client, command)
            seed_curves(client, run)
            yield from _finish(run)
            return
        mark_killed(client, resume_run_id)
    resolved = [_resolve_upstream(client, ref) for ref in inputs]
    upstream = sorted({ref.upstream_run_id for ref in resolved if ref.upstream_run_id})
    tags = {
        "mlflow.runName": command,
        TAG_COMMAND: command,
        TAG_UPSTREAM: ",".join(upstream),
        TAG_VERSIONS: json.dumps(installed_versions()),
    }
    sha = git_sha()
    if sha:
        tags[TAG_GIT_SHA] = sha
    tags.update(pipeline_tags())
    run_id = client.create_run(experiment_id, tags=tags, run_name=command).info.run_id
    run = LineageRun(run_id, client, command)
    try:
        _log_inputs(run, resolved)
        if config is not None:
            client.log_dict(run_id, dict(config), "config.json")
            run.log_params(flatten(config))
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    yield from _finish(run)


def _finish(run: LineageRun) -> Iterator[LineageRun]:
    """Yield the run to the body; end it FINISHED, FAILED, or KILLED when interrupted."""
    client, run_id = run._client_(), run._id()
    try:
        yield run
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        if not interrupted:
            _draw_curves(run)  # a failed run's curves show where it went wrong
        client.set_terminated(run_id, "KILLED" if interrupted else "FAILED")
        raise
    _draw_curves(run)
    client.set_terminated(run_id, run.end_status)


def _draw_curves(run: LineageRun) -> None:
    """Best effort: a figure that cannot be drawn never fails the command that trained."""
    import os

    if os.environ.get(PLOTS_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    try:
        run.write_curves()
    except Exception as exc:  # reported, never raised
        import sys

        print(f"codekiln: run {run.run_id}: curves not drawn ({type(exc).__name__}: {exc})",
              file=sys.stderr)


def _resolve_upstream(client: MlflowClient, ref: InputRef) -> InputRef:
    """Fill ``upstream_run_id`` for ``runs:/`` and ``models:/`` sources (and ``model_id``
    for ``models:/``)."""
    if not ref.source.startswith(("runs:/", "models:/")):
        return ref
    from codekiln_core.lineage.resolve import model_id_of, run_id_of

    run_id = ref.upstream_run_id or run_id_of(client, ref.source)
    model_id = ref.model_id
    if model_id is None and ref.source.startswith("models:/"):
        model_id = model_id_of(client, ref.source)
    return InputRef(ref.name, ref.source, ref.digest or run_id[:12], run_id, model_id)


def _log_inputs(run: LineageRun, refs: Sequence[InputRef]) -> None:
    """Dataset inputs (each naming the command that made it) and the logged models read,
    as MLflow model inputs: the run page and the model's page then link each other."""
    from mlflow.entities import LoggedModelInput

    client = run._client_()
    commands = {upstream: _command_of(client, upstream)
                for upstream in {ref.upstream_run_id for ref in refs if ref.upstream_run_id}}
    for ref in refs:
        made_by = commands.get(ref.upstream_run_id) if ref.upstream_run_id else None
        run._log_dataset(ref, context="input", made_by=made_by)
    models = list(dict.fromkeys(ref.model_id for ref in refs if ref.model_id))
    if models:
        client.log_inputs(run._id(), models=[LoggedModelInput(m) for m in models])


def _command_of(client: MlflowClient, run_id: str) -> str | None:
    """The command an upstream run recorded; None when the store does not hold it (the
    command reports a missing run in its own words)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id).data.tags.get(TAG_COMMAND)
    except MlflowException:
        return None


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are kept as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list | tuple) else value
    return flat


#: Set by ``codekiln run`` for each step's process: the pipeline's parent run and the step.
PARENT_RUN_ENV = "CODEKILN_PARENT_RUN_ID"
PIPELINE_STEP_ENV = "CODEKILN_PIPELINE_STEP"
TAG_PIPELINE_STEP = "codekiln.pipeline.step"


def pipeline_tags() -> dict[str, str]:
    """Tags nesting this run under a pipeline's parent run (MLflow shows it as a child)."""
    import os

    parent = os.environ.get(PARENT_RUN_ENV)
    if not parent:
        return {}
    tags = {"mlflow.parentRunId": parent}
    step = os.environ.get(PIPELINE_STEP_ENV)
    if step:
        tags[TAG_PIPELINE_STEP] = step
    return tags
