"""The lifecycle hooks of a curation run, as a plugin sees them: the command's run around
every stage's own start and finish, each where its pass over the data really starts/ends."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from codekiln_core.cli.app import main
from codekiln_core.hookspecs import hookimpl


class Recorder:
    """A tiny plugin that writes down every lifecycle event, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.stats: dict[str, Mapping[str, Any]] = {}
        self.run_ids: set[str | None] = set()

    @hookimpl
    def codekiln_run_started(self, command: str, run_id: str | None,
                             recipe: Mapping[str, Any]) -> None:
        self.events.append(("run started", command))
        self.run_ids.add(run_id)

    @hookimpl
    def codekiln_stage_started(self, stage: str, run_id: str | None,
                               config: Mapping[str, Any]) -> None:
        self.events.append(("started", stage))
        self.run_ids.add(run_id)
        assert config["name"] == stage

    @hookimpl
    def codekiln_stage_finished(self, stage: str, run_id: str | None,
                                stats: Mapping[str, Any]) -> None:
        self.events.append(("finished", stage))
        self.run_ids.add(run_id)
        self.stats[stage] = stats

    @hookimpl
    def codekiln_run_finished(self, command: str, run_id: str | None, status: str,
                              metrics: Mapping[str, Any]) -> None:
        self.events.append(("run finished", status))


def test_codekiln_stage_started_and_finished_fire_per_stage_where_its_pass_runs(
        tmp_path: Path, tiny_code_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codekiln_core import plugins

    recorder = Recorder()
    manager = plugins.get_plugin_manager(warn=False)
    manager.register(recorder, name="recorder")
    monkeypatch.setattr(plugins, "_shared", None)  # restored after the test
    monkeypatch.setattr("codekiln_core.cli.app.get_plugin_manager", lambda **_: manager)
    (tiny_code_corpus / "calc" / "copy.py").write_text(
        (tiny_code_corpus / "calc" / "ops.py").read_text())
    out = tmp_path / "out"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}], "output": str(out),
        "stages": [{"name": "heuristics"}, {"name": "exact-dedup"}, {"name": "syntax"},
                   {"name": "near-dedup"}, {"name": "language-id", "enabled": False}]}))
    assert main(["curate", "run", str(recipe), "--no-lineage", "-q"]) == 0
    # pass 1: heuristics + exact-dedup's keys; pass 2: exact-dedup's drops, syntax,
    # near-dedup's keys; pass 3: near-dedup's drops. A disabled stage never fires.
    assert recorder.events == [
        ("run started", "curate.run"),
        ("started", "heuristics"), ("started", "exact-dedup"),
        ("finished", "heuristics"),
        ("started", "syntax"), ("started", "near-dedup"),
        ("finished", "exact-dedup"), ("finished", "syntax"),
        ("finished", "near-dedup"),
        ("run finished", "FINISHED")]
    assert recorder.run_ids == {None}  # no lineage: no run id, the hooks fire all the same
    import json

    summary = json.loads((out / "summary.json").read_text())
    for stage, stats in recorder.stats.items():
        counts = summary["stages"][stage]
        assert {k: stats[k] for k in counts} == counts  # what the report says, when it ends
        assert stats["kept"] == counts["out_docs"]
        assert stats["dropped"] == counts["in_docs"] - counts["out_docs"]
    assert recorder.stats["exact-dedup"]["dropped"] == 1  # the copy
