"""Packed shards: exact round trip (FIM undone), determinism, resume, mixture, reader."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codekiln_core.bpe import train_byte_level_bpe
from codekiln_core.errors import ConfigError
from codekiln_core.shard_verify import verify_contents
from codekiln_core.shards import PackedShards
from codekiln_core.special_tokens import EOS, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from codekiln_curate.tokens import shards as shards_module
from codekiln_curate.tokens.dataset import iter_batches, open_dataset
from codekiln_curate.tokens.encode import decode_document
from codekiln_curate.tokens.fim import FimConfig
from codekiln_curate.tokens.shards import ShardSettings, write_shards
from codekiln_curate.tokens.tokenizer import (
    load_tokenizer,
    special_ids,
    tokenizer_hash,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TRICKY = [
    "",
    "x",
    f"text that mentions {FIM_PREFIX} and {EOS} literally\n",
    "unicode: héllo wörld — 日本語 🙂\n\ttabs  and  spaces  \n",
    "def long_function():\n" + "".join(f"    value_{i} = {i} * {i}\n" for i in range(300)),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two Parquet parts with ids, like a curate output's data/ directory."""
    from codekiln_core.testing import TINY_CORPUS

    root = tmp_path_factory.mktemp("curated")
    (root / "data").mkdir()
    texts = list(TINY_CORPUS.values()) + TRICKY
    half = len(texts) // 2
    for part, chunk in enumerate((texts[:half], texts[half:])):
        ids = [f"p{part}-{i}" for i in range(len(chunk))]
        pq.write_table(pa.table({"id": ids, "content": chunk}),
                       root / "data" / f"part-{part}.parquet")
    return root


@pytest.fixture(scope="module")
def tokenizer_dir(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tok")
    dataset = open_dataset(corpus)
    tokenizer = train_byte_level_bpe((texts for _, texts in iter_batches(dataset)), 400)
    tokenizer.save(str(out / "tokenizer.json"))
    return out


def plain_tokenizer(texts: list[str]) -> Tokenizer:
    """A byte-level BPE with an EOS but no FIM tokens, like many published tokenizers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=300, special_tokens=[EOS], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tokenizer


def texts_of(corpus: Path) -> list[str]:
    return [t for _, texts in iter_batches(open_dataset(corpus)) for t in texts]


def decoded(out: Path, tokenizer_dir: Path) -> list[str]:
    tokenizer = load_tokenizer(tokenizer_dir)
    specials = special_ids(tokenizer, tokenizer_dir, need_fim=True)
    return [decode_document(tokenizer, specials, d) for d in PackedShards(out).documents()]


SMALL = ShardSettings(seq_len=32, sequences_per_shard=8, fim=FimConfig(0.5, "spm", 1),
                      batch_docs=3)


@pytest.mark.parametrize("mode", ["spm", "psm"])
def test_round_trip_recovers_every_document(corpus: Path, tokenizer_dir: Path, tmp_path: Path,
                                            mode: str) -> None:
    settings = ShardSettings(seq_len=32, sequences_per_shard=8,
                             fim=FimConfig(0.5, mode, 1), batch_docs=3)  # type: ignore[arg-type]
    result = write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "out", settings)
    manifest = result.manifest
    assert len(manifest["shards"]) > 3  # the long document spans shard files
    assert decoded(tmp_path / "out", tokenizer_dir) == texts_of(corpus)
    assert 0 < manifest["fim_documents"] < manifest["total_documents"] == len(texts_of(corpus))


def test_layout_eos_padding_and_manifest(corpus: Path, tokenizer_dir: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = write_shards([open_dataset(corpus, name="code")], tokenizer_dir, out,
                            SMALL).manifest
    shards = PackedShards(out)
    tokenizer = load_tokenizer(tokenizer_dir)
    eos, pad = tokenizer.token_to_id(EOS), manifest["special_ids"]["pad"]
    assert len(shards) == manifest["total_sequences"] == -(-manifest["total_tokens"] // 32)
    assert all(shards[i].dtype == np.uint32 and shards[i].shape == (32,)
               for i in range(len(shards)))
    assert np.array_equal(shards[-1], shards[len(shards) - 1])
    docs = list(shards.documents())
    assert all(int(d[-1]) == eos for d in docs)  # EOS closes every document
    tail = manifest["total_tokens"] - (len(shards) - 1) * 32
    assert (shards[-1][tail:] == pad).all()
    sentinels = {tokenizer.token_to_id(t) for t in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)}
    forged = [d for d in docs if int(d[0]) not in sentinels and sentinels & set(d.tolist())]
    assert not forged  # sentinel text inside a document never becomes a control token
    assert manifest["tokenizer"]["sha256"] == tokenizer_hash(tokenizer_dir)
    assert manifest["sources"] == {"code": {"tokens": manifest["total_tokens"],
                                            "documents": len(docs), "weight": 1.0}}
    assert manifest["seq_len"] == 32 and manifest["seed"] == 1
    assert manifest["fim"] == {"rate": 0.5, "mode": "spm"} and manifest["schema_version"] == 1
    for shard in manifest["shards"]:
        data = (out / shard["bin"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        assert len(data) == 4 * 32 * shard["sequences"]


def tree(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}


def test_deterministic_and_resumable(corpus: Path, tokenizer_dir: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "a", SMALL)
    write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "b",
                 ShardSettings(seq_len=32, sequences_per_shard=8, fim=SMALL.fim, batch_docs=7))
    assert tree(tmp_path / "a") == tree(tmp_path / "b")  # batch size changes nothing
    real_write = shards_module.atomic_write_bytes
    written: list[str] = []

    def crash_after_three_shards(path: Path, data: bytes) -> None:
        if path.suffix == ".bin" and len(written) == 3:
            raise KeyboardInterrupt("simulated kill")
        if path.suffix == ".bin":
            written.append(path.name)
        real_write(path, data)

    monkeypatch.setattr(shards_module, "atomic_write_bytes", crash_after_three_shards)
    with pytest.raises(KeyboardInterrupt):
        write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "c", SMALL)
    monkeypatch.setattr(shards_module, "atomic_write_bytes", real_write)
    assert not (tmp_path / "c" / "manifest.json").exists()
    resumed = write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "c", SMALL)
    assert resumed.resumed_shards == 3
    assert tree(tmp_path / "c") == tree(tmp_path / "a")
    with pytest.raises(ConfigError, match="other inputs or settings"):
        write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "c",
                     ShardSettings(seq_len=64, sequences_per_shard=8, fim=SMALL.fim))
    # Killed before its settings were in place: only a temp file in _state/ is left.
    early = tmp_path / "early" / "_state"
    early.mkdir(parents=True)
    (early / "settings.json.tmp-4242").write_text("{")
    write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "early", SMALL)
    assert tree(tmp_path / "early") == tree(tmp_path / "a")



@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_rerun_rewrites_damaged_shards(corpus: Path, tokenizer_dir: Path, tmp_path: Path,
                                         damage: str, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    """A finished shard whose files no longer match its marker (a truncated copy, a flipped
    byte) is written again by the rerun a reader's error prescribes, with the same bytes."""
    out = tmp_path / "out"
    first = write_shards([open_dataset(corpus)], tokenizer_dir, out, SMALL).manifest
    assert all(len(s["idx_sha256"]) == 64 for s in first["shards"])
    whole = tree(out)
    target = out / first["shards"][2]["idx" if damage == "truncate" else "bin"]
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[5] ^= 1
    target.write_bytes(bytes(data[:-8] if damage == "truncate" else data))
    with pytest.raises(ConfigError, match=re.escape(str(target))):
        PackedShards(out) if damage == "truncate" else verify_contents(out, first)
    rerun = write_shards([open_dataset(corpus)], tokenizer_dir, out, SMALL)
    assert rerun.resumed_shards == 2 and tree(out) == whole
    assert f"{target}" in capsys.readouterr().err
    verify_contents(out, rerun.manifest)


def test_mixture_weights_repeat_and_sample(corpus: Path, tokenizer_dir: Path,
                                           tmp_path: Path) -> None:
    one = open_dataset(corpus, name="one")
    two = open_dataset(corpus, name="two")
    n = len(texts_of(corpus))
    settings = ShardSettings(seq_len=64, sequences_per_shard=64, fim=FimConfig(0.0),
                             mix={"one": 2.0, "two": 0.5})
    manifest = write_shards([one, two], tokenizer_dir, tmp_path / "out", settings).manifest
    assert manifest["sources"]["one"]["documents"] == 2 * n
    assert 0 < manifest["sources"]["two"]["documents"] < n
    assert manifest["mixture_weights"] == {"one": 2.0, "two": 0.5}
    docs = decoded(tmp_path / "out", tokenizer_dir)
    assert docs[:2 * n] == texts_of(corpus) * 2
    with pytest.raises(ConfigError, match="match no dataset"):
        write_shards([one], tokenizer_dir, tmp_path / "bad",
                     ShardSettings(mix={"three": 1.0}))


def test_bad_inputs_are_one_line_errors(corpus: Path, tokenizer_dir: Path,
                                        tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or directory"):
        open_dataset(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"no tokenizer\.json"):
        write_shards([open_dataset(corpus)], tmp_path, tmp_path / "out", SMALL)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x.txt").write_text("x")
    with pytest.raises(ConfigError, match="not a shards directory"):
        write_shards([open_dataset(corpus)], tokenizer_dir, tmp_path / "taken", SMALL)
    with pytest.raises(ConfigError, match=r"no manifest\.json"):
        PackedShards(tmp_path / "taken")
    bare = tmp_path / "bare"
    bare.mkdir()
    plain_tokenizer(["def f():\n    return 1\n"] * 5).save(str(bare / "tokenizer.json"))
    with pytest.raises(ConfigError, match=r"lacks FIM tokens <\[fim-prefix\]>"):
        write_shards([open_dataset(corpus)], bare, tmp_path / "out2", SMALL)
