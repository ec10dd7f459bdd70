"""``codekiln serve-check MODEL``: serve the model as a user would, ask it twice, stop it.

Core cannot import codekiln-serve, so the server is the installed ``codekiln serve``
command in its own process group (:mod:`codekiln_core.pipeline.serve_check`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from codekiln_core.cli.contract import Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_core.config import RecipeModel


class ServeCheckRecipe(RecipeModel):
    """What to serve and how long to wait for it."""

    model: str = Field(description="HF model dir or models:/NAME/VERSION, passed to "
                       "`codekiln serve`")
    serve_args: list[str] = Field([], description="extra arguments for `codekiln serve`, "
                                  "e.g. [--device, cpu]")
    max_tokens: int = Field(16, ge=1, description="new tokens per request")
    ready_timeout: float = Field(300.0, gt=0, description="seconds to wait for /health")


def served_model(recipe: ServeCheckRecipe) -> list[str]:
    """The model as a lineage input, when it is one (a hub id or URL is not tracked)."""
    model = recipe.model
    return [model] if model.startswith("models:/") or Path(model).exists() else []


def check_serving(invocation: Invocation[ServeCheckRecipe]) -> Outcome:
    """Start the server on a free port, one completion and one chat request, stop it."""
    import subprocess
    import sys
    import tempfile
    import time

    from codekiln_core.net import HOST, free_port, wait_healthy
    from codekiln_core.pipeline.serve_check import check_model, stop

    recipe = invocation.recipe
    port = free_port()
    url = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "codekiln_core", "serve", recipe.model, "--host", HOST,
               "--port", str(port), "--no-lineage", *recipe.serve_args]
    log = Path(tempfile.mkstemp(prefix="codekiln-serve-check-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            started = time.monotonic()
            wait_healthy(url, exit_code=process.poll, name="codekiln serve",
                         timeout_s=recipe.ready_timeout,
                         hint=f"see {log} (raise --ready-timeout for a large model)")
            metrics = {"startup_s": time.monotonic() - started,
                       **check_model(url, recipe.max_tokens)}
        finally:
            stop(process)
    invocation.run.log_metrics(metrics)
    log.unlink(missing_ok=True)  # kept only when the check fails (the error names it)
    return Outcome(metrics=metrics)


COMMAND = Command(
    name="serve-check", recipe=ServeCheckRecipe, work=check_serving,
    help="Start `codekiln serve MODEL`, send one completion and one chat request, stop it.",
    output=None, inputs="model", resumable=False, key_metrics=("latency_s",),
    aliases=(Alias(("--serve-arg",), "serve_args", "values", hint="use --serve-args"),),
    lineage_inputs=served_model)
