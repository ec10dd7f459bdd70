"""The shard format reader in core: sequences, document boundaries, padding, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.shards import MANIFEST, PackedShards, bin_name, idx_name, read_manifest

SEQ = 4


def write_set(out: Path, documents: list[list[int]], per_shard: int = 2, pad: int = 1) -> Path:
    """A shard directory in the format `codekiln curate shards` writes (tiny, by hand)."""
    out.mkdir()
    flat = [t for doc in documents for t in doc]
    starts = np.cumsum([0] + [len(d) for d in documents[:-1]])
    shard_tokens = SEQ * per_shard
    shards = []
    for index, begin in enumerate(range(0, len(flat), shard_tokens)):
        tokens = flat[begin:begin + shard_tokens]
        padded = tokens + [pad] * (-len(tokens) % SEQ)
        (out / bin_name(index)).write_bytes(np.asarray(padded, dtype=np.uint32).tobytes())
        local = [s - begin for s in starts if begin <= s < begin + shard_tokens]
        (out / idx_name(index)).write_bytes(np.asarray(local, dtype=np.uint64).tobytes())
        shards.append({"bin": bin_name(index), "idx": idx_name(index), "tokens": len(tokens),
                       "sequences": len(padded) // SEQ, "documents": len(local), "sha256": ""})
    manifest = {"schema_version": 1, "seq_len": SEQ, "sequences_per_shard": per_shard,
                "dtype": "uint32", "shards": shards,
                "total_sequences": sum(s["sequences"] for s in shards)}
    (out / MANIFEST).write_text(json.dumps(manifest))
    return out


DOCS = [[10, 11, 2], [20, 21, 22, 23, 24, 2], [30, 2], [40, 41, 2]]  # 14 tokens


def test_sequences_boundaries_and_padding(tmp_path: Path) -> None:
    shards = PackedShards(write_set(tmp_path / "s", DOCS))
    assert len(shards) == 4 and shards.seq_len == SEQ
    assert shards.sequence(0).tolist() == [10, 11, 2, 20]
    assert shards[3].tolist() == [41, 2, 1, 1]  # end-of-set padding
    assert shards.sequence(0).dtype == np.uint32
    assert shards.document_starts(0).tolist() == [0, 3]
    assert shards.document_starts(1).tolist() == []  # inside the long document
    assert shards.document_starts(2).tolist() == [1, 3]  # second shard file
    assert [shards.valid_length(i) for i in range(4)] == [4, 4, 4, 2]
    assert [d.tolist() for d in shards.documents()] == DOCS
    with pytest.raises(IndexError):
        shards.sequence(4)


def test_bad_directories_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no manifest\.json"):
        read_manifest(tmp_path)
    out = write_set(tmp_path / "s", DOCS)
    manifest = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps({**manifest, "dtype": "uint16"}))
    with pytest.raises(ConfigError, match="dtype 'uint16'"):
        PackedShards(out)
    (out / MANIFEST).write_text(json.dumps({**manifest, "schema_version": 9}))
    with pytest.raises(ConfigError, match="schema_version 9"):
        read_manifest(out)
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / bin_name(1)).unlink()
    with pytest.raises(ConfigError, match=r"shard-00001\.bin is missing"):
        PackedShards(out).sequence(2)


def test_importing_core_and_the_reader_stays_cheap() -> None:
    """`import codekiln_core.shards` must not pull numpy (the CLI imports core)."""
    code = ("import sys, codekiln_core, codekiln_core.shards; "
            "heavy = [m for m in ('numpy', 'torch', 'mlflow', 'transformers') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
