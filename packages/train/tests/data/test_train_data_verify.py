"""Shard verification on open: read once then cached, and the ``verify: sizes`` opt-out."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from codekiln_core import shard_verify
from codekiln_core.errors import ConfigError
from codekiln_core.shards import PackedShards
from codekiln_train.data import check_shard_sets
from codekiln_train.recipe import ShardSetRef

if TYPE_CHECKING:
    from conftest import TinyShards


def test_contents_are_read_once_then_cached(tiny_shards: TinyShards, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shard_verify.CACHE_ENV, str(tmp_path / "cache"))
    code = tmp_path / "code"
    shutil.copytree(tiny_shards.code, code)
    reads: list[str] = []
    read_facts = shard_verify.read_facts

    def counted(path: Path, dtype: str) -> shard_verify.FileFacts:
        reads.append(path.name)
        return read_facts(path, dtype)

    monkeypatch.setattr(shard_verify, "read_facts", counted)
    shards = json.loads((code / "manifest.json").read_text())["shards"]
    check_shard_sets([ShardSetRef(path=code)])
    assert sorted(reads) == sorted(n for s in shards for n in (s["bin"], s["idx"]))
    reads.clear()
    check_shard_sets([ShardSetRef(path=code)])
    assert reads == []  # a re-open reads nothing
    # The same bytes under a new inode (a copy, a rewrite) are read again, and only they are.
    path = code / "shard-00003.bin"
    shutil.copy2(path, code / "replacement")
    os.replace(code / "replacement", path)
    check_shard_sets([ShardSetRef(path=code)])
    assert reads == ["shard-00003.bin"]
    assert not any((code / "_state").glob("verified*"))  # the shard directory is untouched


def test_sizes_only_sets_check_token_ids_as_they_are_read(tiny_shards: TinyShards,
                                                         tmp_path: Path) -> None:
    code = tmp_path / "code"
    shutil.copytree(tiny_shards.code, code)
    path = code / "shard-00000.bin"
    tokens = np.fromfile(path, dtype=np.uint32)
    tokens[3] = tiny_shards.vocab_size + 7
    tokens.tofile(path)
    with pytest.raises(ConfigError, match=r"shard-00000\.bin: sha256 .* but manifest\.json"):
        check_shard_sets([ShardSetRef(path=code)])
    check_shard_sets([ShardSetRef(path=code, verify="sizes")])  # not read at open
    reader = PackedShards(code)
    assert reader.sequence(1).max() < tiny_shards.vocab_size
    with pytest.raises(ConfigError, match=rf"shard-00000\.bin \(sequence 0\) holds token id "
                                          rf"{tiny_shards.vocab_size + 7}, but manifest"):
        reader.sequence(0)
    (code / "shard-00001.idx").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"shard-00001\.idx is 0 bytes but manifest\.json "
                                          r"implies \d+"):
        check_shard_sets([ShardSetRef(path=code, verify="sizes")])  # sizes: always
