"""Global stages (exact-dedup, near-dedup) accept shards with no documents left.

A zero-byte or wholly corrupt JSONL/Parquet file, a dir shard of only binary or empty files,
or a shard whose every document an earlier stage dropped all reach the dedup stages as an
empty shard. Once this ended every run (and every rerun) with ``ArrowInvalid: Schema at
index 1 was different: id: null``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codekiln_core.lineage.run import LineageRun
from codekiln_curate.engine.curation import run_curation
from codekiln_curate.recipe import CurateRecipe

DOC = "def add(a, b):\n    total = a + b\n    return total\n\n\nprint(add(1, 2))\n"


def make_inputs(root: Path) -> list[dict[str, object]]:
    jsonl = root / "jsonl"
    jsonl.mkdir()
    rows = [{"content": DOC, "path": "a.py", "repo": "r1"},
            {"content": DOC, "path": "b.py", "repo": "r2"},  # exact duplicate of a.py
            {"content": DOC.replace("1, 2", "3, 4"), "path": "c.py", "repo": "r3"}]
    (jsonl / "a-good.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (jsonl / "b-empty.jsonl").write_bytes(b"")
    (jsonl / "c-corrupt.jsonl").write_bytes(b"{not json\n\x00\x01\n")
    short = [{"content": f"x = {i}\n", "path": f"s{i}.py", "repo": "short"} for i in range(3)]
    (jsonl / "d-all-gated.jsonl").write_text("".join(json.dumps(r) + "\n" for r in short))
    parquet = root / "parquet"
    parquet.mkdir()
    (parquet / "broken.parquet").write_bytes(b"PAR1" + os.urandom(200))
    pq.write_table(pa.table({"content": pa.array([], pa.string())}), parquet / "none.parquet")
    binaries = root / "binaries"
    binaries.mkdir()
    (binaries / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (binaries / "empty.py").write_bytes(b"")
    return [{"kind": "jsonl", "path": str(jsonl)}, {"kind": "parquet", "path": str(parquet)},
            {"kind": "dir", "path": str(binaries)}]


@pytest.mark.parametrize("level", ["file", "repo"])
def test_dedup_stages_accept_empty_shards_and_reruns(tmp_path: Path, level: str) -> None:
    recipe = CurateRecipe.model_validate({
        "inputs": make_inputs(tmp_path),
        "output": str(tmp_path / "out"),
        "stages": [
            {"name": "heuristics", "gates": [{"signal": "num_lines", "min": 2}]},
            {"name": "exact-dedup", "options": {"level": level}},
            {"name": "near-dedup", "options": {"level": level}},
        ],
    })
    first = run_curation(recipe, LineageRun(None)).summary
    assert first["totals"]["kept_docs"] == 2  # a.py (b.py is its copy) and c.py
    assert first["stages"]["exact-dedup"]["out_docs"] == 2
    assert first["stages"]["heuristics"]["reasons"]["num_lines_below_min"][0] == 3
    again = run_curation(recipe, LineageRun(None)).summary  # a rerun resumes, finds all done
    assert again["totals"] == first["totals"]
    kept = pq.read_table(tmp_path / "out" / "data").column("path").to_pylist()
    assert sorted(kept) == ["a.py", "c.py"]


def test_every_shard_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    recipe = CurateRecipe.model_validate({
        "inputs": [{"kind": "jsonl", "path": str(empty)}], "output": str(tmp_path / "out"),
        "stages": [{"name": "exact-dedup"}, {"name": "near-dedup", "options": {"level": "repo"}}],
    })
    summary = run_curation(recipe, LineageRun(None)).summary
    assert summary["totals"]["in_docs"] == 0 and summary["totals"]["kept_docs"] == 0
