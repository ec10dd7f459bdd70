"""Bad input never crashes a run: every damaged file is a counted, named skip.

Tests run as root in CI containers, where ``chmod 000`` does not stop reads; unreadability
is therefore simulated with a FIFO (reading it would block forever) and a dangling symlink,
and the chmod case only asserts the file is either read or counted, never fatal.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow.parquet as pq

from codekiln_core.lineage.run import LineageRun
from codekiln_curate.engine.curation import run_curation
from codekiln_curate.recipe import CurateRecipe

GOOD = "def ok():\n    return 42\n"


def make_bad_tree(root: Path) -> Path:
    tree = root / "bad"
    tree.mkdir()
    (tree / "good.py").write_text(GOOD)
    (tree / "image.bin").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (tree / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (tree / "empty.py").write_bytes(b"")
    (tree / "blank.py").write_text("   \n\n")
    with open(tree / "huge.txt", "wb") as handle:  # 100 MB, sparse: costs no disk or reads
        handle.truncate(100 * 1024 * 1024)
    os.symlink("loop_b", tree / "loop_a")
    os.symlink("loop_a", tree / "loop_b")
    os.symlink("does-not-exist", tree / "dangling.py")
    (tree / "sub").mkdir()
    os.symlink("..", tree / "sub" / "up")  # directory cycle: never followed
    os.mkfifo(tree / "pipe.py")
    locked = tree / "locked.py"
    locked.write_text(GOOD.replace("42", "43"))
    locked.chmod(0)
    return tree


def make_bad_dumps(root: Path) -> Path:
    dumps = root / "dumps"
    dumps.mkdir()
    lines = b"".join(json.dumps({"content": f"x = {i}\n", "path": f"r{i}.py"}).encode() + b"\n"
                     for i in range(200))
    whole = gzip.compress(lines)
    (dumps / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # truncated stream
    (dumps / "mixed.jsonl").write_bytes(
        b'{"content": "y = 1\\n", "path": "y.py"}\n{not json\n[1, 2]\n{"path": "no-content"}\n')
    return dumps


def run(recipe: dict, tmp_path: Path) -> dict:
    recipe.setdefault("output", str(tmp_path / "out"))
    result = run_curation(CurateRecipe.model_validate(recipe), LineageRun(None))
    return result.summary


def test_bad_files_in_a_tree_are_counted_skips(tmp_path: Path) -> None:
    tree = make_bad_tree(tmp_path)
    summary = run({"inputs": [{"kind": "dir", "path": str(tree)}],
                   "limits": {"max_file_bytes": 1_000_000}}, tmp_path)
    reasons = summary["stages"]["read"]["reasons"]
    assert reasons["binary"][0] == 1
    assert reasons["invalid_utf8"][0] == 1
    assert reasons["empty"][0] == 2
    assert reasons["too_large"] == [1, 100 * 1024 * 1024]
    assert reasons["symlink_loop"][0] == 2
    assert reasons["dangling_symlink"][0] == 1
    assert reasons["not_regular_file"][0] == 1  # the FIFO, skipped without opening it
    assert reasons["symlink"][0] == 1  # sub/up -> .., reported, not walked
    kept = pq.read_table(tmp_path / "out" / "data").column("path").to_pylist()
    # root ignores chmod 000, so locked.py is read; as a normal user it is `unreadable`
    assert "good.py" in kept
    assert ("locked.py" in kept) or reasons.get("unreadable", [0])[0] == 1
    dropped = pq.read_table(tmp_path / "out" / "dropped")
    assert set(dropped.column("drop_stage").to_pylist()) == {"read"}
    assert summary["totals"]["in_docs"] == summary["totals"]["kept_docs"] + sum(
        v[0] for v in reasons.values())


def test_truncated_gzip_and_bad_lines_keep_what_was_readable(tmp_path: Path) -> None:
    dumps = make_bad_dumps(tmp_path)
    summary = run({"inputs": [{"kind": "jsonl", "path": str(dumps)}]}, tmp_path)
    reasons = summary["stages"]["read"]["reasons"]
    assert reasons["truncated_or_corrupt"][0] == 1
    assert reasons["invalid_json"][0] == 1
    assert reasons["not_an_object"][0] == 1
    assert reasons["missing_content"][0] == 1
    kept = summary["totals"]["kept_docs"]
    assert 1 < kept < 201  # mixed.jsonl's good line plus the readable head of cut.jsonl.gz


def test_corrupt_parquet_is_a_counted_skip(tmp_path: Path) -> None:
    good = tmp_path / "pq" / "good.parquet"
    good.parent.mkdir()
    import pyarrow as pa

    pq.write_table(pa.table({"content": ["a = 1\n"], "path": ["a.py"]}), good)
    (tmp_path / "pq" / "broken.parquet").write_bytes(b"PAR1" + os.urandom(300))
    (tmp_path / "pq" / "cut.parquet").write_bytes(good.read_bytes()[:-20])
    summary = run({"inputs": [{"kind": "parquet", "path": str(tmp_path / "pq")}]}, tmp_path)
    assert summary["stages"]["read"]["reasons"]["corrupt_parquet"][0] == 2
    assert summary["totals"]["kept_docs"] == 1
