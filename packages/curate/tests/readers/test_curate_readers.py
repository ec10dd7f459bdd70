"""Readers: directory trees, local git repos, JSONL (plain/gz/zst) and Parquet dumps."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from codekiln_core.lineage.run import LineageRun
from codekiln_core.plugins import get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_curate.documents import Skip, document_id
from codekiln_curate.engine.inputs import plan_input as plan_with
from codekiln_curate.engine.inputs import read_shard
from codekiln_curate.readers.shard import Shard
from codekiln_curate.recipe import InputSpec

REGISTRY = Registry(get_plugin_manager(warn=False))


def plan_input(index: int, spec: InputSpec, shard_files: int) -> list[Shard]:
    return plan_with(index, spec, shard_files, REGISTRY)


def read_all(spec: InputSpec, shard_files: int = 100, max_bytes: int = 10_000) -> list:
    items = []
    for shard in plan_input(0, spec, shard_files):
        items.extend(read_shard(shard, max_bytes, REGISTRY))
    return items


def docs_of(items: list) -> list[dict]:
    return [i for i in items if not isinstance(i, Skip)]


def test_dir_reader_lists_sorted_skips_git_and_applies_globs(tiny_code_corpus: Path) -> None:
    (tiny_code_corpus / ".git").mkdir()
    (tiny_code_corpus / ".git" / "config").write_text("[core]\n")
    spec = InputSpec(kind="dir", path=str(tiny_code_corpus), exclude=["**/*.json"])
    docs = docs_of(read_all(spec, shard_files=3))
    paths = [d["path"] for d in docs]
    assert paths == sorted(paths)
    assert "calc/ops.py" in paths and "config/settings.json" not in paths
    assert not any(p.startswith(".git") for p in paths)
    ops = next(d for d in docs if d["path"] == "calc/ops.py")
    assert ops["repo"] == "corpus" and ops["source"] == "corpus"
    assert ops["id"] == document_id(ops["content"], "corpus", "corpus", "calc/ops.py")
    only_py = docs_of(read_all(InputSpec(kind="dir", path=str(tiny_code_corpus),
                                         include=["**/*.py"], repo_depth=1)))
    assert {d["path"] for d in only_py} == {"calc/ops.py", "calc/main.py", "broken/bad.py"}
    assert {d["repo"] for d in only_py} == {"calc", "broken"}


def test_dir_shards_are_deterministic(tiny_code_corpus: Path) -> None:
    spec = InputSpec(kind="dir", path=str(tiny_code_corpus))
    first = [s.to_json() for s in plan_input(0, spec, 4)]
    again = [s.to_json() for s in plan_input(0, spec, 4)]
    assert first == again and [s["shard_id"] for s in first] == ["000-00000", "000-00001",
                                                                 "000-00002"]


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def make_repo(root: Path) -> Path:
    repo = root / "demo-repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.py").write_text("def a():\n    return 1\n")
    (repo / "b.py").write_text("def b():\n    return 2\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one", "--date", "2020-01-01T00:00:00Z")
    (repo / "b.py").write_text("def b():\n    return 3\n")
    (repo / "untracked.py").write_text("print('not committed')\n")
    _git(repo, "add", "b.py")
    _git(repo, "commit", "-q", "-m", "two")
    (repo / "a.py").write_text("dirty working tree, not at HEAD\n")
    return repo


def test_git_reader_reads_head_with_last_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    head = _git(repo, "rev-parse", "HEAD")
    first = _git(repo, "rev-parse", "HEAD~1")
    docs = {d["path"]: d for d in docs_of(read_all(InputSpec(kind="git", path=str(repo))))}
    assert set(docs) == {"a.py", "b.py"}  # untracked files are not at HEAD
    assert docs["a.py"]["content"] == "def a():\n    return 1\n"  # HEAD, not the work tree
    assert docs["b.py"]["content"].endswith("return 3\n")
    assert docs["a.py"]["commit"] == first and docs["b.py"]["commit"] == head
    assert docs["a.py"]["repo"] == "demo-repo"
    assert isinstance(docs["b.py"]["commit_time"], int)


def test_git_reader_rejects_non_repo(tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError

    with pytest.raises(ConfigError, match="git"):
        plan_input(0, InputSpec(kind="git", path=str(tmp_path)), 10)


RECORDS = [{"text": "print('a')\n", "path": "a.py", "repo": "r1"},
           {"text": "print('b')\n", "path": "b.py", "repo": "r2", "language": "Python"}]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_jsonl_reader_plain_and_compressed(tmp_path: Path, suffix: str) -> None:
    raw = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
    path = tmp_path / f"dump{suffix}"
    if suffix.endswith(".gz"):
        raw = gzip.compress(raw)
    elif suffix.endswith(".zst"):
        raw = zstandard.ZstdCompressor().compress(raw)
    path.write_bytes(raw)
    docs = docs_of(read_all(InputSpec(kind="jsonl", path=str(path), content_column="text")))
    assert [(d["path"], d["repo"], d["content"]) for d in docs] == [
        ("a.py", "r1", "print('a')\n"), ("b.py", "r2", "print('b')\n")]
    assert docs[1]["language"] == "Python"


def test_parquet_reader_with_content_column(tmp_path: Path) -> None:
    path = tmp_path / "dump.parquet"
    pq.write_table(pa.Table.from_pylist(RECORDS), path, row_group_size=1)
    docs = docs_of(read_all(InputSpec(kind="parquet", path=str(path), content_column="text",
                                      repo_column=None)))
    assert [d["content"] for d in docs] == ["print('a')\n", "print('b')\n"]
    assert {d["repo"] for d in docs} == {"dump.parquet"}  # repo column disabled: the source


class _CsvReader:
    """A plugin's reader: one document per CSV row of a ``code`` column."""

    name = "read-csv"

    def plan(self, index: int, spec: InputSpec, path: Path, shard_files: int) -> list[Shard]:
        return [Shard(f"{index:03d}-00000", "csv", spec.name or path.name, str(path),
                      dict(spec.options))]

    def read(self, shard: Shard, max_file_bytes: int) -> list[dict]:
        import csv

        from codekiln_curate.documents import make_document

        with open(shard.root, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=shard.options.get("sep", ",")))
        return [make_document(row["code"], source=shard.source, repo="csv", path=f"row{i}.py")
                for i, row in enumerate(rows)]


class _CsvPlugin:
    from codekiln_core.hookspecs import hookimpl

    @hookimpl
    def codekiln_register_stages(self, register) -> None:  # type: ignore[no-untyped-def]
        register("read-csv", _CsvReader, description="CSV rows")


def test_readers_are_looked_up_in_the_registry(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from codekiln_core import plugins
    from codekiln_core.errors import ConfigError
    from codekiln_curate.engine.curation import run_curation
    from codekiln_curate.recipe import CurateRecipe

    original = plugins.get_plugin_manager

    def with_csv(**kwargs: object) -> plugins.PluginManager:
        pm = original(**kwargs)  # type: ignore[arg-type]
        pm.register(_CsvPlugin(), name="csv-plugin")
        return pm

    table = tmp_path / "code.csv"
    table.write_text('code;id\n"def f():\n    return 1\n";1\n"x = 2\n";2\n')
    recipe = {"inputs": [{"kind": "csv", "path": str(table), "options": {"sep": ";"}}],
              "output": str(tmp_path / "out")}
    with pytest.raises(ConfigError, match=r"inputs\[0\].kind: no reader for kind 'csv' .*"
                       "kinds: dir, git, jsonl, parquet"):
        run_curation(CurateRecipe.model_validate(recipe), LineageRun(None))
    monkeypatch.setattr(plugins, "get_plugin_manager", with_csv)
    summary = run_curation(CurateRecipe.model_validate(recipe), LineageRun(None)).summary
    assert summary["totals"]["kept_docs"] == 2
    kept = pq.read_table(tmp_path / "out" / "data").column("content").to_pylist()
    assert kept == ["def f():\n    return 1\n", "x = 2\n"]
