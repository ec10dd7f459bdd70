"""Repo-level samples: import graphs per language, dependency order, cycles, splitting."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_core.repo_text import file_header
from codekiln_curate.samples.graph import dependency_order, strongly_connected
from codekiln_curate.samples.recipes import RepoLimits
from codekiln_curate.samples.repo_level import RepoStats, import_edges, repo_samples
from codekiln_curate.samples.sources import iter_repos

REPO_MAIN = Path(__file__).resolve().parents[4]

TINY = {
    "pkg/__init__.py": "\"\"\"A package.\"\"\"\n",
    "pkg/a.py": "from .b import helper\nfrom pkg import (\n    c,\n)\n",
    "pkg/b.py": "import os\nimport pkg.c as c\n\ndef helper():\n    return c.X\n",
    "pkg/c.py": "X = 1\n",
    "pkg/d.py": "from pkg.e import g\n\ndef f():\n    return g()\n",
    "pkg/e.py": "from pkg import d\n\ndef g():\n    return d\n",
    "src/com/x/Main.java": "package com.x;\nimport com.x.util.Helper;\nimport java.util.List;\n"
                           "class Main {}\n",
    "src/com/x/util/Helper.java": "package com.x.util;\nimport static com.x.util.Const.N;\n"
                                  "public class Helper {}\n",
    "src/com/x/util/Const.java": "package com.x.util;\npublic class Const { int N = 1; }\n",
    "web/app.js": "import { f } from './lib/f';\nconst g = require('./lib/g.js');\n"
                  "import React from 'react';\n",
    "web/lib/f.ts": "export function f() { return 1; }\n",
    "web/lib/g.js": "module.exports = require('./f');\n",
    "c/main.c": '#include <stdio.h>\n#include "util.h"\nint main(void) { return 0; }\n',
    "c/util.h": "int twice(int x);\n",
    "c/util.c": '#include "util.h"\nint twice(int x) { return 2 * x; }\n',
    "go.mod": "module example.com/m\n\ngo 1.21\n",
    "main.go": 'package main\n\nimport (\n\t"fmt"\n\t"example.com/m/pkg/strs"\n)\n',
    "pkg/strs/strs.go": "package strs\n\nfunc Up(s string) string { return s }\n",
    "rs/src/main.rs": "mod parser;\nmod lexer;\nuse crate::parser::parse;\nfn main() {}\n",
    "rs/src/parser.rs": "use crate::lexer::Token;\npub fn parse() {}\n",
    "rs/src/lexer.rs": "pub struct Token;\n",
    "db/query.sql": "SELECT 1;\n",
    "site/index.html": "<html></html>\n",
    "run.sh": "echo hi\n",
}


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    for rel, text in TINY.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def files_of(root: Path):  # type: ignore[no-untyped-def]
    return next(iter_repos(root))[1]


def test_import_edges_resolve_per_language(tiny_repo: Path) -> None:
    edges = import_edges(files_of(tiny_repo))
    assert edges["pkg/a.py"] == {"pkg/b.py", "pkg/c.py", "pkg/__init__.py"}
    assert edges["pkg/b.py"] == {"pkg/c.py"}
    assert edges["pkg/d.py"] == {"pkg/e.py"} and edges["pkg/e.py"] == {"pkg/d.py",
                                                                     "pkg/__init__.py"}
    assert edges["src/com/x/Main.java"] == {"src/com/x/util/Helper.java"}
    assert edges["src/com/x/util/Helper.java"] == {"src/com/x/util/Const.java"}
    assert edges["web/app.js"] == {"web/lib/f.ts", "web/lib/g.js"}
    assert edges["web/lib/g.js"] == {"web/lib/f.ts"}
    assert edges["c/main.c"] == {"c/util.h"} and edges["c/util.c"] == {"c/util.h"}
    assert edges["main.go"] == {"pkg/strs/strs.go"}
    assert edges["rs/src/main.rs"] == {"rs/src/parser.rs", "rs/src/lexer.rs"}
    assert edges["rs/src/parser.rs"] == {"rs/src/lexer.rs"}


def test_order_puts_dependencies_first_and_keeps_cycles_together(tiny_repo: Path) -> None:
    stats = RepoStats()
    [sample] = list(repo_samples("tiny", files_of(tiny_repo), RepoLimits(), stats))
    order = sample.paths
    assert sorted(order) == sorted(TINY)
    position = {p: i for i, p in enumerate(order)}
    edges = import_edges(files_of(tiny_repo))
    cyclic = {"pkg/d.py", "pkg/e.py"}
    for src, deps in edges.items():
        for dep in deps:
            if not {src, dep} <= cyclic:
                assert position[dep] < position[src], (dep, src)
    assert position["pkg/e.py"] == position["pkg/d.py"] + 1  # one SCC, by path
    others = {"db/query.sql", "site/index.html", "run.sh", "go.mod"}
    assert set(order[-len(others):]) == others  # no import graph: after the graph files
    for path in order:
        assert file_header(path) + TINY[path] in sample.text
    assert sample.text.startswith("<[file]> ")
    assert stats.edges == sum(len(d) for d in edges.values())


def test_seed_changes_only_the_random_part_and_runs_are_deterministic(tiny_repo: Path) -> None:
    def order(seed: int) -> list[str]:
        files = files_of(tiny_repo)
        return next(repo_samples("tiny", files, RepoLimits(seed=seed), RepoStats())).paths

    assert order(0) == order(0)
    seeds = {tuple(order(s)[-4:]) for s in range(8)}
    assert len(seeds) > 1 and {tuple(order(s)[:-4]) for s in range(8)} == {tuple(order(0)[:-4])}


def test_tarjan_finds_cycles_and_order_is_input_independent() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert sorted(strongly_connected(list("edcba"), edges)) == [["a", "b", "c"], ["d"], ["e"]]
    assert dependency_order(list("edcba"), edges) == dependency_order(list("abcde"), edges) \
        == ["a", "b", "c", "d", "e"]
    chain = {f"n{i:04d}": {f"n{i + 1:04d}"} for i in range(5000)}  # deep: no recursion
    deep = dependency_order(sorted(chain), chain)
    assert deep[0] == "n4999" and deep[-1] == "n0000"  # n5000 is not a node: dropped


def test_large_repo_is_split_by_import_components(tiny_repo: Path) -> None:
    stats = RepoStats()
    limits = RepoLimits(max_bytes=1024)
    files = files_of(tiny_repo)
    parts = list(repo_samples("tiny", files, limits, stats))
    assert len(parts) > 1 and stats.split_repos == 1
    assert all(p.parts == len(parts) for p in parts)
    seen = [path for part in parts for path in part.paths]
    assert sorted(seen) == sorted(TINY)
    owner = {path: part.part for part in parts for path in part.paths}
    for src, deps in import_edges(files).items():
        for dep in deps:
            assert owner[src] == owner[dep]  # a component never straddles two parts
    assert all(len(p.text.encode()) <= 1024 for p in parts)


def test_cli_on_the_project_repository(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    if not (REPO_MAIN / ".git").exists():
        pytest.skip("not running from a git checkout of the project")
    out = tmp_path / "out"
    assert main(["curate", "samples", "repos", str(REPO_MAIN), "-o", str(out),
                 "--no-lineage"]) == 0
    assert "samples from 1 repositories" in capsys.readouterr().out
    rows = pq.read_table(out / "repos.parquet").to_pylist()
    tracked = subprocess.run(["git", "-C", str(REPO_MAIN), "ls-files"], capture_output=True,
                             text=True, check=True).stdout.split()
    paths = [p for row in rows for p in row["paths"]]
    assert len(paths) == len(set(paths)) and set(paths) <= set(tracked)
    position = {p: i for i, p in enumerate(paths)}
    label = "packages/curate/src/codekiln_curate/label/"
    # label/label_dataset.py imports label/sampling.py, so sampling.py must come first
    assert position[label + "sampling.py"] < position[label + "label_dataset.py"]
    assert position["packages/core/src/codekiln_core/errors.py"] < position[
        label + "label_dataset.py"]


def test_curated_parquet_groups_by_repo_and_bad_input_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa

    data = tmp_path / "curated" / "data"
    data.mkdir(parents=True)
    rows = [{"repo": r, "path": p, "language": "python", "content": c}
            for r, p, c in [("b", "m.py", "import n\n"), ("b", "n.py", "X = 1\n"),
                            ("a", "x.py", "print(1)\n")]]
    pq.write_table(pa.Table.from_pylist(rows), data / "part-0-0.parquet")
    out = tmp_path / "out"
    assert main(["curate", "samples", "repos", str(tmp_path / "curated"), "-o", str(out),
                 "--no-lineage"]) == 0
    table = pq.read_table(out / "repos.parquet").to_pylist()
    assert [(r["repo"], r["paths"]) for r in table] == [("a", ["x.py"]), ("b", ["n.py", "m.py"])]
    capsys.readouterr()
    assert main(["curate", "samples", "repos", str(tmp_path / "nope"), "-o",
                 str(tmp_path / "new"), "--no-lineage"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "nope" in err and "\n" not in err
