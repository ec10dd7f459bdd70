"""Damaged or mismatched shards are refused before the first step, in one line naming the file.

Each case is what a user met with ``codekiln train pretrain``: a truncated ``.idx`` trained
to the end with wrong document boundaries and exit 0; a truncated ``.bin`` failed mid-run
with ``unexpected ValueError: all input arrays must have the same shape``; token ids past the
vocabulary, or a tokenizer larger than the embedding, gave ``unexpected IndexError``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from codekiln_core.cli.app import main

Damage = Callable[[Path, Path], str]  # (shard set copy, tokenizer copy) -> path the error names


def _manifest(shards: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shards / "manifest.json").read_text())
    return data


def _save_manifest(shards: Path, manifest: dict[str, Any]) -> None:
    (shards / "manifest.json").write_text(json.dumps(manifest))


def truncated_idx(shards: Path, tokenizer: Path) -> str:
    path = shards / "shard-00000.idx"
    path.write_bytes(path.read_bytes()[:-16])  # two document starts lost
    return str(path)


def truncated_bin(shards: Path, tokenizer: Path) -> str:
    path = shards / "shard-00001.bin"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return str(path)


def flipped_token(shards: Path, tokenizer: Path) -> str:
    """Same size, other bytes: only the sha256 tells."""
    path = shards / "shard-00002.bin"
    tokens = np.fromfile(path, dtype=np.uint32)
    tokens[100] = (tokens[100] + 1) % 1024
    tokens.tofile(path)
    return str(path)


def ids_past_vocab(shards: Path, tokenizer: Path) -> str:
    """Shards whose writer used a larger vocabulary than the manifest records (its sha256
    rewritten to match, as such a writer would)."""
    manifest = _manifest(shards)
    path = shards / manifest["shards"][3]["bin"]
    tokens = np.fromfile(path, dtype=np.uint32)
    tokens[::97] = manifest["vocab_size"] + 7
    tokens.tofile(path)
    manifest["shards"][3]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _save_manifest(shards, manifest)
    return str(path)


def tokenizer_past_embedding(shards: Path, tokenizer: Path) -> str:
    """A manifest that sizes the embedding below the tokenizer's ids."""
    manifest = _manifest(shards)
    manifest["vocab_size"] = 512
    _save_manifest(shards, manifest)
    return str(tokenizer / "tokenizer.json")


def tokenizer_retrained(shards: Path, tokenizer: Path) -> str:
    """The tokenizer directory rewritten after the shards were made (exported with the model)."""
    path = tokenizer / "tokenizer.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=1))
    return str(path)


@pytest.mark.parametrize("damage", [truncated_idx, truncated_bin, flipped_token,
                                    ids_past_vocab, tokenizer_past_embedding,
                                    tokenizer_retrained])
def test_bad_shards_fail_before_the_first_step(damage: Damage, tiny_shards: Any,
                                               make_recipe: Any, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    tokenizer, code = tmp_path / "tokenizer", tmp_path / "shards-code"
    shutil.copytree(tiny_shards.tokenizer, tokenizer)
    shutil.copytree(tiny_shards.code, code)
    manifest = _manifest(code)
    manifest["tokenizer"]["path"] = str(tokenizer)
    _save_manifest(code, manifest)
    named = damage(code, tokenizer)
    shards = SimpleNamespace(code=code, extra=code, validation=code)
    path = make_recipe("run", shards=shards, steps=4)
    capsys.readouterr()
    status = main(["train", "pretrain", str(path), "--no-lineage", "--threads", "1"])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    last = err.splitlines()[-1]
    assert last.startswith("error: ") and "unexpected" not in last, err
    assert named in last and ("rebuild" in last or "rerun" in last), last
    assert not (tmp_path / "run" / "metrics.jsonl").exists()  # not one step was taken
