"""``curate shards`` on a disk that fills up, or on one it cannot write: one line each.

A full disk stops at the shard that did not fit, naming it and its size; the shards before
it stay, and a rerun with room and --resume continues from them. A read-only output fails before the
tokenizer is even loaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_core.testing import TINY_CORPUS

SEQ_LEN, PER_SHARD = 256, 32  # 32 KiB of uint32 tokens per shard file


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~60 KB of code in one Parquet part: a few shard files' worth of tokens."""
    root = tmp_path_factory.mktemp("curated")
    texts = [f"# copy {i}\n{text}" for i in range(40) for text in TINY_CORPUS.values()]
    (root / "data").mkdir()
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(texts))], "content": texts}),
                   root / "data" / "part-0.parquet")
    return root


@pytest.fixture(scope="module")
def tokenizer_dir(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from codekiln_core.bpe import train_byte_level_bpe
    from codekiln_curate.tokens.dataset import iter_batches, open_dataset

    out = tmp_path_factory.mktemp("tok")
    batches = (texts for _, texts in iter_batches(open_dataset(corpus)))
    train_byte_level_bpe(batches, 300).save(str(out / "tokenizer.json"))
    return out


def _shards(corpus: Path, tokenizer_dir: Path, out: Path) -> list[str]:
    return ["curate", "shards", str(corpus), "--tokenizer", str(tokenizer_dir), "-o", str(out),
            "--seq-len", str(SEQ_LEN), "--sequences-per-shard", str(PER_SHARD), "--no-lineage"]


def test_full_disk_names_the_shard_and_a_rerun_resumes(corpus: Path, tokenizer_dir: Path,
                                                       small_disk: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from codekiln_core.shards import read_manifest

    out = small_disk(100 * 1024) / "shards"  # two shards (+ 4 KiB pages) fit, a third not
    assert main(_shards(corpus, tokenizer_dir, out)) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "unexpected" not in error
    assert error.startswith(f"error: disk full: writing {out / 'shard-00002.bin'} needs about "
                            f"32.0 KiB ({SEQ_LEN * PER_SHARD * 4} bytes)"), error
    written = sorted(p.name for p in out.iterdir() if p.is_file())
    assert written == ["shard-00000.bin", "shard-00000.idx", "shard-00001.bin",
                       "shard-00001.idx"]  # whole shards only, no temp files

    moved = tmp_path / "bigger" / "shards"  # the user frees space: here, a larger disk
    shutil.copytree(out, moved)
    assert main([*_shards(corpus, tokenizer_dir, moved), "--resume"]) == 0
    manifest = read_manifest(moved)
    assert len(manifest["shards"]) > 3
    fresh = tmp_path / "fresh"
    assert main(_shards(corpus, tokenizer_dir, fresh)) == 0
    for shard in manifest["shards"]:
        assert (moved / shard["bin"]).read_bytes() == (fresh / shard["bin"]).read_bytes()


def test_read_only_output_fails_before_tokenizing(corpus: Path, small_disk: Any,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    read_only = small_disk(64 * 1024, read_only=True)
    missing_tokenizer = tmp_path / "no-tokenizer-here"  # would fail if it were ever read
    assert main(_shards(corpus, missing_tokenizer, read_only / "shards")) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"error: {read_only / 'shards'}: cannot write here ({read_only}: "
                     "Read-only file system); choose another --output or fix its permissions")
