"""Every ``codekiln curate`` command as registered: pipeline step names and key metrics, the
output rule, documented recipes, and modules light enough for ``codekiln --help``."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from codekiln_core.cli.contract import CliCommand, Command, Group
from codekiln_core.cli.modules import register_modules

#: The pipeline steps curate's commands have always answered to, and their summary metrics.
STEPS = {"curate": ("curate.run", ("docs_in", "docs_kept", "bytes_kept")),
         "label": ("curate.label", ("labeled", "unparsable", "mean_score")),
         "score": ("curate.score", ("kept", "dropped", "mean_score")),
         "tokenizer": ("curate.tokenizer.train", ("vocab_size",)),
         "shards": ("curate.shards", ("tokens", "sequences", "fim_documents")),
         "heldout": ("curate.heldout", ("documents", "dropped_overlap", "scanned"))}
#: The commands that continue an interrupted run in their output (journal, markers, cache).
RESUMABLE = {"curate.run", "curate.label", "curate.shards", "curate.web.rate"}


def registered() -> dict[str, Any]:
    found: dict[str, Any] = {}
    register_modules(lambda name, item: found.__setitem__(name, item), "codekiln_curate.commands")
    return found


def commands() -> list[Command[Any]]:
    return [c for c in registered().values() if isinstance(c, Command)]


def test_every_command_is_registered_in_its_groups() -> None:
    found = registered()
    groups = {n for n, item in found.items() if isinstance(item, Group)}
    assert groups == {"curate", "curate.samples", "curate.tokenizer", "curate.web"}
    assert {n for n, item in found.items() if isinstance(item, CliCommand)} == {"curate.report"}
    assert {c.name for c in commands()} == {
        "curate.run", "curate.label", "curate.score", "curate.shards", "curate.heldout",
        "curate.tokenizer.train", "curate.tokenizer.adopt", "curate.samples.commits",
        "curate.samples.repos", "curate.web.extract", "curate.web.seeds",
        "curate.web.train-classifier", "curate.web.classify", "curate.web.rate"}


def test_steps_keep_their_names_and_key_metrics() -> None:
    by_step = {c.step: c for c in commands() if c.step}
    assert set(by_step) == set(STEPS)
    for step, (name, metrics) in STEPS.items():
        assert (by_step[step].name, by_step[step].key_metrics) == (name, metrics)


def test_output_rule_and_resume() -> None:
    for command in commands():
        assert command.output == "dir" and command.output_key == "output", command.name
        assert command.resumable == (command.name in RESUMABLE), command.name
        assert not command.registers, command.name


def _undocumented(model: type[BaseModel], prefix: str = "") -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        if not info.description:
            missing.append(prefix + name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            missing += _undocumented(annotation, f"{prefix}{name}.")
    return missing


@pytest.mark.parametrize("command", commands(), ids=lambda c: c.name)
def test_every_recipe_key_is_documented(command: Command[Any]) -> None:
    assert _undocumented(command.recipe) == []


def test_curate_run_recipe_sections_are_documented() -> None:
    from codekiln_curate import recipe as module

    models = [v for v in vars(module).values()
              if isinstance(v, type) and issubclass(v, BaseModel)
              and v.__module__ == module.__name__]
    assert len(models) >= 6
    assert [m for model in models for m in _undocumented(model)] == []


def test_command_modules_import_nothing_heavy() -> None:
    """``codekiln --help`` loads every command module: the work's imports wait for the work."""
    heavy = ("torch", "transformers", "mlflow", "ray", "pyarrow", "tokenizers", "fasttext",
             "matplotlib", "openai", "tree_sitter")
    code = ("import sys; from codekiln_core.cli.modules import register_modules; "
            "register_modules(lambda n, o: None, 'codekiln_curate.commands'); "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
