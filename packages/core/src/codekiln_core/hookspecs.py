"""Every hook a codekiln plugin can implement.

Hooks are for discovery and lifecycle, never per-record work. Registration hooks receive a
``register`` callback instead of returning values, so core can validate each name and
attribute it to the plugin that registered it (see :mod:`codekiln_core.registry`).

A plugin implements hooks with the ``hookimpl`` marker re-exported here::

    from codekiln_core.hookspecs import hookimpl

    @hookimpl
    def codekiln_register_stages(register):
        register("no-secrets", NoSecretsFilter, description="drop files that embed credentials")

docs/plugin-hooks.md documents each hook; a test fails when a hook is missing there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import typer

PROJECT_NAME = "codekiln"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback a registration hook receives.

    ``name`` is what recipes and the CLI use (lowercase, digits, ``-``, ``_``, ``.``);
    ``obj`` is the thing registered (usually a class or factory); ``description`` is the
    one-liner shown by ``codekiln plugins list``.
    """

    def __call__(self, name: str, obj: Any, /, *, description: str = "") -> None: ...


@hookspec
def codekiln_register_stages(register: Register) -> None:
    """Register curation stages: filters, signal stages, deduplicators, scorers, readers.

    ``obj`` is a stage class; :mod:`codekiln_core.stages` is the contract it follows (the
    protocols ``Filter``, ``BatchFilter``, ``SignalStage``, ``BatchSignalStage``,
    ``GlobalStage``, and ``options_model`` for typed, validated options). A filter is one
    method, ``filter(doc) -> bool | tuple[bool, str]``; for speed, ``filter_batch(batch:
    pyarrow.RecordBatch) -> Sequence[str | None]`` returns one drop reason (``None``: keep)
    per row. A reader is a ``codekiln_core.stages.Reader`` registered as ``read-<kind>``.

    Example::

        @hookimpl
        def codekiln_register_stages(register):
            register("min-lines", MinLinesFilter, description="drop files under N lines")
    """


@hookspec
def codekiln_register_rewards(register: Register) -> None:
    """Register reward functions for RL post-training.

    ``obj`` is a verl-style ``compute_score(data_source, solution_str, ground_truth,
    extra_info) -> float`` or a TRL-style ``f(prompts, completions, **columns) ->
    list[float]``; posttrain adapts either form.

    Example::

        @hookimpl
        def codekiln_register_rewards(register):
            register("unit-tests", unit_test_reward, description="1.0 when all tests pass")
    """


@hookspec
def codekiln_register_benchmarks(register: Register) -> None:
    """Register code benchmarks: load problems, build prompts, check answers.

    ``obj`` is a benchmark class; decontamination also reads its problem texts.

    Example::

        @hookimpl
        def codekiln_register_benchmarks(register):
            register("humaneval", HumanEval, description="164 Python problems (OpenAI)")
    """


@hookspec
def codekiln_register_engines(register: Register) -> None:
    """Register serving/generation engines (transformers, vllm, openai-http, ...).

    Example::

        @hookimpl
        def codekiln_register_engines(register):
            register("transformers", TransformersEngine, description="in-process HF model")
    """


@hookspec
def codekiln_register_sandboxes(register: Register) -> None:
    """Register code-execution backends (local process pool, remote SandboxFusion, ...).

    Example::

        @hookimpl
        def codekiln_register_sandboxes(register):
            register("sandbox-fusion", SandboxFusionClient, description="remote /run_code")
    """


@hookspec
def codekiln_register_commands(app: typer.Typer) -> None:
    """Mount a Typer sub-app (or commands) on the root ``codekiln`` CLI.

    Keep the module that defines the sub-app light: ``codekiln --help`` imports it, so heavy
    libraries must be imported inside the command functions.

    Example::

        @hookimpl
        def codekiln_register_commands(app):
            from my_plugin.cli import my_app
            app.add_typer(my_app, name="mine", help="my commands")
    """


@hookspec
def codekiln_stage_started(stage: str, run_id: str | None, config: Mapping[str, Any]) -> None:
    """Called when a pipeline stage starts; trackers (lineage, metrics) subscribe here.

    ``run_id`` is the MLflow run of the command, or None when lineage is off.

    Example::

        @hookimpl
        def codekiln_stage_started(stage, run_id, config):
            print(f"{stage} started in run {run_id}")
    """


@hookspec
def codekiln_stage_finished(stage: str, run_id: str | None, stats: Mapping[str, Any]) -> None:
    """Called when a pipeline stage ends, with its counters (kept, dropped, bytes, ...).

    Example::

        @hookimpl
        def codekiln_stage_finished(stage, run_id, stats):
            print(f"{stage}: kept {stats.get('kept')}")
    """
