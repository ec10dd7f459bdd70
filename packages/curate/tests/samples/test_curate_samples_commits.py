"""Commit samples from real git history: a tiny repo built here, and this project's repo."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_curate.samples.bm25 import BM25, code_tokens
from codekiln_curate.samples.commits import CommitStats, commit_samples
from codekiln_curate.samples.recipes import CommitLimits
from codekiln_curate.samples.write_samples import COMMIT_COLUMNS

REPO_MAIN = Path(__file__).resolve().parents[4]
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@x", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00",
       "GIT_COMMITTER_DATE": "2024-01-01T00:00:00"}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, env=ENV, capture_output=True)


def commit(root: Path, files: dict[str, str | bytes], message: str) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def tiny_git(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, {"README.md": "# Tiny\nA calculator.\n",
                  "calc/parse_number.py": "def parse_number(text):\n    return int(text)\n",
                  "calc/render.py": "def render(value):\n    return str(value)\n",
                  "calc/other.py": "def unrelated():\n    return None\n"}, "initial import")
    commit(root, {"README.md": "# Tiny\nA calculator with floats.\n",
                  "calc/parse_number.py": "def parse_number(text):\n    return float(text)\n"},
           "Fix parseNumber: accept floats")
    commit(root, {"logo.png": b"\x89PNG\r\n\x1a\n\0\0\0binary"}, "add logo")
    git(root, "checkout", "-q", "-b", "side")
    commit(root, {"calc/render.py": "def render(value):\n    return f'{value:.2f}'\n"},
           "render with two decimals")
    git(root, "checkout", "-q", "main")
    commit(root, {"calc/other.py": "def unrelated():\n    return 0\n"}, "other returns 0")
    git(root, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    commit(root, {"data.txt": "x" * 5000 + "\n"}, "add big data")
    commit(root, {f"many/f{i}.py": f"N = {i}\n" for i in range(6)}, "many files")
    return root


def test_bm25_ranks_by_code_tokens() -> None:
    assert code_tokens("parseNumber(x) parse_number HTTPServer v2") == [
        "parse", "number", "parsenumber", "parse", "number", "parse_number", "http", "server",
        "httpserver"]
    index = BM25([code_tokens("def render(value): pass"), code_tokens("def parse_number(t):"),
                  code_tokens("number number number of things")])
    assert index.top(code_tokens("fix parseNumber"), 5)[0][0] == 1
    assert index.top(["absent"], 5) == []


def test_tiny_repo_samples_and_counted_skips(tiny_git: Path) -> None:
    stats = CommitStats()
    limits = CommitLimits(max_diff_bytes=2048, max_files_changed=5, top_k=2)
    samples = {s.text_input.split("\n")[1]: s for s in commit_samples(tiny_git, stats, limits)}
    assert stats.commits == 8 and stats.written == 3
    assert dict(stats.skipped) == {"root_commit": 1, "binary_only": 1, "merge": 1,
                                   "diff_too_large": 1, "too_many_files": 1}
    assert stats.binary_files_skipped == 1
    assert set(samples) == {"Fix parseNumber: accept floats", "render with two decimals",
                            "other returns 0"}
    fix = samples["Fix parseNumber: accept floats"]
    assert fix.text == fix.text_input + fix.text_target
    sections = re.findall(r"^<(\w+)(?: path=\"([^\"]*)\")?>$", fix.text, re.MULTILINE)
    assert sections[:3] == [("commit_message", ""), ("readme", "README.md"), ("tree", "")]
    files = [path for tag, path in sections if tag == "file"]
    assert files == ["calc/parse_number.py"]  # the only file sharing a query token
    assert "A calculator.\n" in fix.text_input  # the README before the commit
    assert "return int(text)" in fix.text_input and "return float" not in fix.text_input
    assert "calc/\n  other.py\n  parse_number.py\n  render.py\n" in fix.text_input
    assert fix.text_target.startswith("<changed_paths>\nM README.md\nM calc/parse_number.py\n"
                                      "</changed_paths>\n<diff path=\"README.md\">\n")
    assert "-    return int(text)\n+    return float(text)\n" in fix.text_target
    assert "\nindex " not in fix.text_target


def test_input_cap_leaves_out_context_files(tiny_git: Path) -> None:
    limits = CommitLimits(max_input_bytes=1024, max_readme_bytes=0)
    for sample in commit_samples(tiny_git, CommitStats(), limits):
        assert len(sample.text_input.encode()) <= 1024


def test_cli_on_the_project_history(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    mlflow_store: str) -> None:
    if not (REPO_MAIN / ".git").exists():
        pytest.skip("not running from a git checkout of the project")
    out = tmp_path / "out"
    assert main(["curate", "samples", "commits", str(REPO_MAIN), "-o", str(out),
                 "--set", "max_commits=40"]) == 0
    printed = capsys.readouterr().out
    table = pq.read_table(out / "commits.parquet")
    assert tuple(table.column_names) == COMMIT_COLUMNS
    rows = table.to_pylist()
    assert len(rows) >= 20 and f"{len(rows)} samples from 40 commits" in printed
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["repo"] == REPO_MAIN.name and r["text"] == r["text_input"] + r["text_target"]
               for r in rows)
    assert all(r["text_target"].startswith("<changed_paths>\n") for r in rows)
    assert all("<readme path=\"README.md\">" in r["text_input"] for r in rows)
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store)
    [run] = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.info.run_name == "curate.samples.commits"
    assert run.data.metrics["written"] == len(rows)
    assert {d.dataset.name for d in run.inputs.dataset_inputs} >= {REPO_MAIN.name,
                                                                   "commit-samples"}
    assert (out / ".codekiln-run.json").is_file()
