"""The engine: stage runner and gates, global dedup passes, determinism, report."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codekiln_core.lineage.run import LineageRun
from codekiln_curate.engine.curation import run_curation
from codekiln_curate.engine.stage_runner import StageRunner
from codekiln_curate.recipe import CurateRecipe, StageSpec

FUNC = "def {name}(values):\n    total = 0\n    for v in values:\n        total += v * {k}\n" \
       "    return total\n\n\ndef helper_{name}(x):\n    return [y + {k} for y in range(x)]\n"


class LineCount:
    name: ClassVar[str] = "line-count"
    signal_columns: ClassVar[Mapping[str, str]] = {"lines": "int64"}

    def signals(self, doc: Mapping[str, Any]) -> Mapping[str, Any]:
        if "boom" in doc["content"]:
            raise RuntimeError("stage bug")
        return {"lines": doc["content"].count("\n")}


class NoTodo:
    name: ClassVar[str] = "no-todo"

    def filter(self, doc: Mapping[str, Any]) -> bool | tuple[bool, str]:
        return ("TODO" not in doc["content"], "has_todo")


class ShortBatch:
    name: ClassVar[str] = "short-batch"

    def filter_batch(self, batch: pa.RecordBatch) -> list[str | None]:
        return [None if len(c) < 40 else "too_long" for c in batch.column("content").to_pylist()]


def doc(content: str, i: int) -> dict[str, Any]:
    return {"id": str(i), "content": content, "path": f"{i}.py", "repo": "r", "language": "",
            "source": "s", "size_bytes": len(content)}


def test_runner_signals_gates_filters_and_stage_errors() -> None:
    docs = [doc("a\n", 0), doc("a\nb\nc\nd\n", 1), doc("boom\n", 2), doc("TODO\n", 3)]
    dropped: list[dict[str, Any]] = []
    gated = StageRunner(StageSpec(name="line-count", gates=[{"signal": "lines", "max": 3}]),
                        LineCount())
    kept, stats = gated.run(docs, dropped)
    assert [d["id"] for d in kept] == ["0", "3"] and kept[0]["lines"] == 1
    assert stats.reasons == {"lines_above_max": [1, 8], "stage_error:RuntimeError": [1, 5]}
    kept, stats = StageRunner(StageSpec(name="no-todo"), NoTodo()).run(kept, dropped)
    assert [d["id"] for d in kept] == ["0"] and stats.reasons == {"has_todo": [1, 5]}
    assert [(d["drop_stage"], d["drop_reason"]) for d in dropped] == [
        ("line-count", "lines_above_max"), ("line-count", "stage_error:RuntimeError"),
        ("no-todo", "has_todo")]
    kept, stats = StageRunner(StageSpec(name="short-batch"), ShortBatch()).run(
        [doc("x" * 10, 5), doc("x" * 50, 6)], dropped)
    assert [d["id"] for d in kept] == ["5"] and stats.reasons == {"too_long": [1, 50]}


def make_corpus(root: Path) -> Path:
    """Two repos: repo-b is a copy of repo-a plus a near-copy; many distinct files."""
    for repo in ("repo-a", "repo-c"):
        for i in range(12):
            path = root / repo / f"m{i}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(FUNC.format(name=f"{repo[-1]}{i}", k=i + (0 if repo == "repo-a"
                                                                       else 100)))
    (root / "repo-b").mkdir()
    for i in range(12):
        text = (root / "repo-a" / f"m{i}.py").read_text()
        (root / "repo-b" / f"m{i}.py").write_text(text + "\n" if i % 2 else text)
    near = (root / "repo-a" / "m0.py").read_text().replace("return total", "return total + 0")
    (root / "repo-c" / "near.py").write_text(near)
    return root


def recipe(corpus: Path, out: Path, stages: list[dict[str, Any]], **extra: Any) -> CurateRecipe:
    data = {"inputs": [{"kind": "dir", "path": str(corpus), "repo_depth": 1}],
            "output": str(out), "stages": stages, "limits": {"shard_files": 7}, **extra}
    return CurateRecipe.model_validate(data)


FILE_DEDUP = [{"name": "exact-dedup"}, {"name": "near-dedup", "options": {"threshold": 0.7}}]


def digest_tree(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("data", "dropped") for p in sorted((out / sub).glob("*.parquet"))}


def test_file_level_dedup_keeps_smallest_repo_path(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    result = run_curation(recipe(corpus, tmp_path / "out", FILE_DEDUP), LineageRun(None))
    stages = result.summary["stages"]
    # repo-b's 12 files are exact copies of repo-a's (trailing newline normalised away)
    assert stages["exact-dedup"]["reasons"]["exact_duplicate"][0] == 12
    assert stages["near-dedup"]["reasons"]["near_duplicate"][0] == 1
    kept = pq.read_table(tmp_path / "out" / "data")
    assert "repo-b" not in kept.column("repo").to_pylist()
    assert ("repo-c", "repo-c/near.py") not in list(zip(kept.column("repo").to_pylist(),
                                                 kept.column("path").to_pylist(), strict=True))
    dropped = pq.read_table(tmp_path / "out" / "dropped").to_pylist()
    near = next(d for d in dropped if d["drop_reason"] == "near_duplicate")
    rep = next(r for r in kept.to_pylist() if r["id"] == near["near_cluster"])
    assert (rep["repo"], rep["path"]) == ("repo-a", "repo-a/m0.py")


def test_repo_level_dedup_drops_whole_repos(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / "repo-d").mkdir()  # repo-d = repo-a's files plus one more: near, not exact
    for f in (corpus / "repo-a").iterdir():
        (corpus / "repo-d" / f.name).write_text(f.read_text())
    (corpus / "repo-d" / "extra.py").write_text("X = 1\n")
    stages = [{"name": "exact-dedup", "options": {"level": "repo"}},
              {"name": "near-dedup", "options": {"level": "repo", "threshold": 0.7}}]
    result = run_curation(recipe(corpus, tmp_path / "out", stages), LineageRun(None))
    s = result.summary["stages"]
    assert s["exact-dedup"]["reasons"] == {"exact_duplicate_repo": [12, 1790]}  # repo-b
    assert s["near-dedup"]["reasons"]["near_duplicate_repo"][0] == 13  # all of repo-d
    repos = set(pq.read_table(tmp_path / "out" / "data").column("repo").to_pylist())
    assert repos == {"repo-a", "repo-c"}


def test_same_input_gives_byte_identical_output_for_any_worker_count(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    run_curation(recipe(corpus, tmp_path / "one", FILE_DEDUP), LineageRun(None))
    run_curation(recipe(corpus, tmp_path / "two", FILE_DEDUP, workers=2), LineageRun(None))
    one, two = digest_tree(tmp_path / "one"), digest_tree(tmp_path / "two")
    assert one == two and len(one) == 2 * 6  # 37 files / 7 per shard = 6 shards
    assert (tmp_path / "one" / "report.md").read_bytes() == (
        tmp_path / "two" / "report.md").read_bytes()


def test_rerun_on_finished_output_is_a_noop_and_other_recipe_is_refused(tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError

    corpus = make_corpus(tmp_path / "corpus")
    first = run_curation(recipe(corpus, tmp_path / "out", FILE_DEDUP), LineageRun(None))
    before = digest_tree(tmp_path / "out")
    again = run_curation(recipe(corpus, tmp_path / "out", FILE_DEDUP), LineageRun(None))
    assert digest_tree(tmp_path / "out") == before and again.summary == first.summary
    with pytest.raises(ConfigError, match="different recipe"):
        run_curation(recipe(corpus, tmp_path / "out", FILE_DEDUP[:1]), LineageRun(None))
    # Killed before its plan was in place: only a temp file in _state/ is left.
    early = tmp_path / "early" / "_state"
    early.mkdir(parents=True)
    (early / "plan.json.tmp-4242").write_text("{")
    run_curation(recipe(corpus, tmp_path / "early", FILE_DEDUP), LineageRun(None))
    assert digest_tree(tmp_path / "early") == before


def test_a_task_whose_shard_is_done_returns_its_marker(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A retried or reconstructed task (its first attempt finished the shard, its result was
    lost with its node) returns the completion marker instead of processing the shard."""
    import json

    from codekiln_curate.engine import layout, shard_task
    from codekiln_curate.engine.pass_setup import registry
    from codekiln_curate.engine.plan import build_plan

    corpus = make_corpus(tmp_path / "corpus")
    rec = recipe(corpus, tmp_path / "out", FILE_DEDUP)
    run_curation(rec, LineageRun(None))
    plan = build_plan(rec, registry())
    task = shard_task.PassTask(rec.model_dump(mode="json"), plan.fingerprint,
                               str(tmp_path / "out"), 0, plan.shards[0].to_json())

    def no_setup(task: shard_task.PassTask) -> None:
        raise AssertionError("a finished shard was processed again")

    monkeypatch.setattr(shard_task, "_pass_setup", no_setup)
    marker = layout.marker(tmp_path / "out", 0, plan.shards[0].shard_id)
    assert shard_task.run_pass_task(task) == json.loads(marker.read_text())


def test_report_has_tables_histograms_and_samples(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / "repo-c" / "bin.dat").write_bytes(b"\0\1\2")
    out = tmp_path / "out"
    run_curation(recipe(corpus, out, FILE_DEDUP), LineageRun(None))
    report = (out / "report.md").read_text()
    assert "| exact-dedup | 37 | 25 | 12 |" in report
    assert "| read | binary | 1 | 3 |" in report
    assert "### exact-dedup: exact_duplicate" in report and "repo-b/m" in report
    assert "### near-dedup: near_duplicate" in report
    assert "| unknown |" in report  # per-language table (no language-id stage here)
    html = (out / "report.html").read_text()
    assert "<table>" in html and "near_duplicate" in html
    summary = (out / "summary.json").read_text()
    assert '"seconds"' not in summary  # timings stay out of deterministic files


def test_gate_reasons_name_the_signal() -> None:
    from codekiln_curate.engine.stage_runner import gate_reason
    from codekiln_curate.recipe import GateSpec

    assert gate_reason(GateSpec(signal="is_generated", equals=False), True) == "is_generated"
    assert gate_reason(GateSpec(signal="is_code", equals=True), False) == "not_is_code"
    assert gate_reason(GateSpec(signal="n", min=5), 4) == "n_below_min"
    assert gate_reason(GateSpec(signal="n", min=5, max=9), 7) is None
    assert gate_reason(GateSpec(signal="n", min=5), None) is None  # no signal: gate passes
