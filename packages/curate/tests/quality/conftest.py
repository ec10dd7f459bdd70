"""A tiny trained scorer (through the real `codekiln train scorer` command, no import of the
training package) and small corpora of real standard-library code for the quality tests.

Labels follow three rubric cases a teacher scores far apart, made from the same real
files: documented library code (8-9), JSON data dumps (0-1), one big commented-out block
(3-4).
"""

from __future__ import annotations

import hashlib
import json
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SCORER_SETTINGS = ["--set", "max_tokens=128", "--set", "epochs=3", "--set",
                   "tokenizer_vocab=512", "--set", "learning_rate=2e-3"]


def stdlib_heads(count: int, skip: int = 0, lines: int = 60) -> list[tuple[str, str]]:
    files = [p for p in sorted(STDLIB.glob("*.py")) if 3_000 < p.stat().st_size < 60_000]
    return [(p.name, "\n".join(p.read_text(encoding="utf-8", errors="replace")
                               .splitlines()[:lines]) + "\n") for p in files[skip:skip + count]]


def variants(name: str, code: str) -> list[tuple[str, str, str]]:
    """(language, relative path, content) of the three rubric cases of one module."""
    table = [{"module": name, "line": k, "width": len(line)}
             for k, line in enumerate(code.splitlines())]
    return [("python", f"lib/{name}", code),
            ("json", f"data/{Path(name).stem}.json", json.dumps(table, indent=2)),
            ("python", f"old/{name}", "".join(f"# {line}\n" for line in code.splitlines()))]


def write_labels(directory: Path, count: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for index, (name, code) in enumerate(stdlib_heads(count)):
        for (language, path, content), base in zip(variants(name, code), (8, 0, 3),
                                                   strict=True):
            rows.append({"id": hashlib.sha256(f"{path}\0{content}".encode()).hexdigest(),
                         "path": path, "language": language, "content": content,
                         "score": base + index % 2, "explanation": "test rubric case"})
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), directory / "labels.parquet")
    return directory


def train_cli(labels: Path, out: Path, *extra: str) -> None:
    code = main(["train", "scorer", str(labels), "--output", str(out), "--device", "cpu",
                 "--threads", "1", *SCORER_SETTINGS, *extra])
    assert code == 0


@pytest.fixture(scope="session")
def tiny_scorer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quality")
    out = root / "scorer"
    train_cli(write_labels(root / "labels", 60), out, "--no-lineage")
    return out


def write_corpus(root: Path, count: int = 12, skip: int = 70) -> Path:
    """Unseen stdlib modules (``skip`` past the training ones) in the three cases."""
    for name, code in stdlib_heads(count, skip=skip):
        for _, rel, content in variants(name, code):
            path = root / "repo" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    return root


def curate(corpus: Path, out: Path, stages: list[dict[str, Any]], lineage: bool = False) -> Path:
    """A real `codekiln curate run` (in-process, one worker) over ``corpus``."""
    import yaml

    recipe = out.with_name(f"{out.name}.yaml")
    recipe.write_text(yaml.safe_dump({
        "inputs": [{"kind": "dir", "path": str(corpus), "repo_depth": 1}],
        "output": str(out), "stages": stages, "limits": {"shard_files": 15}, "workers": 1}))
    assert main(["curate", "run", str(recipe), "-q", *([] if lineage else ["--no-lineage"])]) == 0
    return out


@pytest.fixture(scope="session")
def curated_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 curated files (12 modules x 3 cases) in 3 parts, language set by language-id."""
    root = tmp_path_factory.mktemp("curated")
    return curate(write_corpus(root / "corpus"), root / "out", [{"name": "language-id"}])
