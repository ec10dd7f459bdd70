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
def codekiln_register_generators(register: Register) -> None:
    """Register in-process generators for samplers (eval, DPO pairs, GRPO, labels).

    ``obj`` is a factory ``obj(spec: GeneratorSpec) -> Generator``; recipes pick it with
    ``engine: NAME`` and :func:`codekiln_core.generation.open_generator` builds it.

    Example::

        @hookimpl
        def codekiln_register_generators(register):
            register("my-engine", MyGenerator, description="my accelerator, batched")
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
def codekiln_register_commands(register: Register) -> None:
    """Register commands: ``codekiln.commands.Command`` (work that follows the command
    contract), ``Group`` (a command group's help) or ``CliCommand`` (a plain Typer function).

    ``name`` is the dotted CLI path (``train.pretrain`` is ``codekiln train pretrain``).
    A ``Command``'s recipe model gives its ``--help`` and ``--field`` flags; core runs it
    (output rule, lineage, lifecycle hooks), and ``codekiln run`` can run it as a pipeline
    step with no edit in core. Keep the module light: ``codekiln --help`` imports it, so
    the work function imports heavy libraries inside.

    Example::

        @hookimpl
        def codekiln_register_commands(register):
            register("mine.count", Command(name="mine.count", recipe=CountRecipe,
                                           work=count_lines, help="Count lines."))
    """


@hookspec
def codekiln_register_cli(app: typer.Typer) -> None:
    """Mount a free-form Typer sub-app on the root CLI (outside the command contract).

    Prefer ``codekiln_register_commands``: commands mounted here do not become pipeline
    steps and record nothing unless they call ``lineage_command`` themselves.

    Example::

        @hookimpl
        def codekiln_register_cli(app):
            from my_plugin.cli import my_app
            app.add_typer(my_app, name="mine", help="my commands")
    """


@hookspec
def codekiln_run_started(command: str, run_id: str | None, recipe: Mapping[str, Any]) -> None:
    """Called once when a command run starts, for every command, lineage on or off.

    ``command`` is the dotted name (``train.pretrain``); ``run_id`` the MLflow run (None
    with ``--no-lineage``); ``recipe`` the resolved recipe (paths absolute). Only the
    process that records the run announces it (rank 0 of a distributed run).

    Example::

        @hookimpl
        def codekiln_run_started(command, run_id, recipe):
            print(f"{command} started (run {run_id})")
    """


@hookspec
def codekiln_run_finished(command: str, run_id: str | None, status: str,
                          metrics: Mapping[str, Any]) -> None:
    """Called once when a command run ends: ``status`` is FINISHED, FAILED or KILLED;
    ``metrics`` the command's headline numbers (empty when it failed).

    Example::

        @hookimpl
        def codekiln_run_finished(command, run_id, status, metrics):
            print(f"{command} {status}: {dict(metrics)}")
    """


@hookspec
def codekiln_stage_started(stage: str, run_id: str | None, config: Mapping[str, Any]) -> None:
    """Called when a curation stage starts its pass over the data (``curate run`` calls it
    once per stage, in recipe order, before the stage reads its first document).

    ``run_id`` is the MLflow run of the command, or None when lineage is off.

    Example::

        @hookimpl
        def codekiln_stage_started(stage, run_id, config):
            print(f"{stage} started in run {run_id}")
    """


@hookspec
def codekiln_stage_finished(stage: str, run_id: str | None, stats: Mapping[str, Any]) -> None:
    """Called when a curation stage has finished its pass, with its counters (kept,
    dropped, bytes, ...), once per stage in recipe order.

    Example::

        @hookimpl
        def codekiln_stage_finished(stage, run_id, stats):
            print(f"{stage}: kept {stats.get('kept')}")
    """
