"""Check a mixture's shard sets against each other and their files before any step.

The manifests are read first (JSON), so a recipe whose shard sets were made with different
tokenizers, sequence lengths or dtypes fails in a second, naming the file, the key and both
values. Then each set's files are checked against its manifest (sizes always; sha256, token
ids and document order unless the set says ``verify: sizes``; see
:mod:`codekiln_core.shard_verify`), and the tokenizer the model will ship with against the
vocabulary its embedding is built for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from codekiln_core.errors import ConfigError
from codekiln_core.shard_verify import check_sizes, verify_contents
from codekiln_core.shards import MANIFEST, TOKEN_DTYPE, read_manifest, vocab_rows

REWRITE = "rerun `codekiln curate shards` with the same arguments to rewrite its manifest"


class ShardSetLike(Protocol):
    """What the data code needs of a recipe's ``ShardSetRef``."""

    @property
    def path(self) -> Path: ...
    @property
    def weight(self) -> float: ...
    @property
    def name(self) -> str | None: ...
    @property
    def verify(self) -> Literal["contents", "sizes"]: ...


@dataclass(frozen=True)
class ShardSetInfo:
    """One checked shard set: where, how big, and the digest lineage logs."""

    name: str
    path: Path
    weight: float
    sequences: int
    tokens: int  # real tokens (padding excluded)
    manifest_sha256: str  # digest of manifest.json: names the exact shard files


@dataclass(frozen=True)
class ShardInfo:
    """What every set of a mixture agrees on, plus each set's size."""

    vocab_size: int
    bos_token_id: int | None
    eos_token_id: int
    pad_token_id: int | None
    seq_len: int
    tokenizer_dir: Path
    tokenizer_sha256: str
    sets: tuple[ShardSetInfo, ...]
    fim_layouts: tuple[str, ...] = ()  # the FIM layouts (spm, psm) the sets were made with

    @property
    def fim_layout(self) -> str | None:
        """The one FIM layout the model learns from these sets (None: no FIM, or mixed)."""
        return self.fim_layouts[0] if len(self.fim_layouts) == 1 else None

    @property
    def digests(self) -> dict[str, str]:
        """Shard-set name -> manifest sha256 (the inputs a lineage run records)."""
        return {s.name: s.manifest_sha256 for s in self.sets}

    @property
    def sequences(self) -> int:
        return sum(s.sequences for s in self.sets)


def _field(manifest: dict[str, Any], path: Path, *keys: str) -> Any:
    node: Any = manifest
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{path / MANIFEST}: no key {'.'.join(keys)!r} (written by an "
                              f"older codekiln); {REWRITE}")
        node = node[key]
    return node


def _agreed(manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """The keys every set of one mixture must share."""
    specials = _field(manifest, path, "special_ids")
    return {
        "tokenizer.sha256": _field(manifest, path, "tokenizer", "sha256"),
        "seq_len": int(_field(manifest, path, "seq_len")),
        "dtype": manifest.get("dtype", TOKEN_DTYPE),
        "vocab_size": int(_field(manifest, path, "vocab_size")),
        "special_ids.bos": _field(manifest, path, "special_ids", "bos"),
        "special_ids.eos": specials.get("eos"),
        "special_ids.pad": specials.get("pad"),
    }


def check_shard_sets(refs: Sequence[ShardSetLike], *, expect_seq_len: int | None = None,
                     source: str = "recipe") -> ShardInfo:
    """Read and cross-check the manifests of ``refs``; a one-line ConfigError on mismatch."""
    if not refs:
        raise ConfigError(f"{source}: the mixture is empty; list at least one shard set")
    first: dict[str, Any] | None = None
    first_path = refs[0].path
    sets: list[ShardSetInfo] = []
    manifests: list[dict[str, Any]] = []
    for position, ref in enumerate(refs):
        try:
            manifest = read_manifest(ref.path)
            agreed = _agreed(manifest, ref.path)
        except ConfigError as exc:
            raise ConfigError(f"{source}: mixture.{position}.path: {exc}") from exc
        if agreed["dtype"] != TOKEN_DTYPE:
            raise ConfigError(f"{ref.path / MANIFEST}: dtype {agreed['dtype']!r}; codekiln "
                              f"trains on {TOKEN_DTYPE} shards; rebuild them")
        if first is None:
            first = agreed
        for key, value in agreed.items():
            if value != first[key]:
                raise ConfigError(
                    f"{ref.path / MANIFEST}: {key} = {value!r} but {first_path / MANIFEST} "
                    f"has {first[key]!r}; every shard set of a stage must come from the same "
                    "tokenizer and --seq-len (rebuild one of them)")
        manifests.append(manifest)
        digest = hashlib.sha256((ref.path / MANIFEST).read_bytes()).hexdigest()
        sets.append(ShardSetInfo(
            name=ref.name or ref.path.resolve().name, path=ref.path, weight=float(ref.weight),
            sequences=int(manifest["total_sequences"]), tokens=int(manifest["total_tokens"]),
            manifest_sha256=digest))
    assert first is not None
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: shard set names {names} repeat; give each a `name`")
    if expect_seq_len is not None and first["seq_len"] != expect_seq_len:
        raise ConfigError(f"{first_path / MANIFEST}: seq_len = {first['seq_len']} but the "
                          f"{source} asks for seq_len {expect_seq_len}; rebuild the shards with "
                          f"--seq-len {expect_seq_len} or change the recipe")
    if not any(s.weight > 0 for s in sets):
        raise ConfigError(f"{source}: every mixture weight is 0; give one set a weight > 0")
    empty = [s.name for s in sets if s.weight > 0 and s.sequences == 0]
    if empty:
        raise ConfigError(f"{source}: shard sets {empty} hold no sequences; drop them or "
                          "give them weight 0")
    check_tokenizer(manifests[0], first_path)
    for ref, manifest in zip(refs, manifests, strict=True):
        if ref.verify == "contents":
            verify_contents(ref.path, manifest)
        else:
            check_sizes(ref.path, manifest)
    manifest = manifests[0]
    return ShardInfo(
        vocab_size=first["vocab_size"], bos_token_id=first["special_ids.bos"],
        eos_token_id=int(first["special_ids.eos"]), pad_token_id=first["special_ids.pad"],
        seq_len=first["seq_len"], tokenizer_dir=Path(manifest["tokenizer"]["path"]),
        tokenizer_sha256=first["tokenizer.sha256"], sets=tuple(sets),
        fim_layouts=fim_layouts(manifests))


def fim_layouts(manifests: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The FIM layouts of the manifests that turned any document into FIM."""
    modes = {str(m.get("fim", {}).get("mode", "spm")) for m in manifests
             if float(m.get("fim", {}).get("rate", 0.0)) > 0}
    return tuple(sorted(modes))


def check_validation_set(path: Path, info: ShardInfo, *, source: str = "recipe"
                         ) -> ShardSetInfo:
    """A held-out set must share the mixture's tokenizer, vocab, ids and dtype; its
    seq_len may differ (one fixed set can score every stage of a run)."""
    try:
        manifest = read_manifest(path)
        agreed = _agreed(manifest, path)
    except ConfigError as exc:
        raise ConfigError(f"{source}: validation: {exc}") from exc
    expected = {"tokenizer.sha256": info.tokenizer_sha256, "dtype": TOKEN_DTYPE,
                "vocab_size": info.vocab_size, "special_ids.bos": info.bos_token_id,
                "special_ids.eos": info.eos_token_id, "special_ids.pad": info.pad_token_id}
    for key, value in expected.items():
        if agreed[key] != value:
            raise ConfigError(f"{path / MANIFEST}: {key} = {agreed[key]!r} but the {source}'s "
                              f"mixture has {value!r}; make the validation shards with the "
                              "same tokenizer")
    if int(manifest["total_sequences"]) == 0:
        raise ConfigError(f"{path / MANIFEST}: the validation set holds no sequences")
    verify_contents(path, manifest)  # held-out sets are small: always read whole
    digest = hashlib.sha256((path / MANIFEST).read_bytes()).hexdigest()
    return ShardSetInfo(name=path.resolve().name, path=path, weight=0.0,
                        sequences=int(manifest["total_sequences"]),
                        tokens=int(manifest["total_tokens"]), manifest_sha256=digest)


def check_tokenizer(manifest: dict[str, Any], shards: Path) -> None:
    """The tokenizer the manifest names (exported with the model) is the one the shards were
    made with, and has no id past ``vocab_size``, the rows of the model's embedding."""
    tokenizer_dir = Path(_field(manifest, shards, "tokenizer", "path"))
    file = tokenizer_dir / "tokenizer.json"
    if not file.is_file():
        raise ConfigError(f"{shards / MANIFEST}: its tokenizer {file} is missing (the model "
                          "is exported with it); restore it, or rebuild the shards with "
                          "`codekiln curate shards --tokenizer ...`")
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    recorded = str(_field(manifest, shards, "tokenizer", "sha256"))
    if digest != recorded:
        raise ConfigError(f"tokenizer {file} changed since the shards in {shards} were made "
                          f"(sha256 {digest[:12]}…, manifest.json {recorded[:12]}…); restore "
                          "it, or rebuild the shards with `codekiln curate shards --tokenizer "
                          f"{tokenizer_dir}`")
    from tokenizers import Tokenizer

    size = vocab_rows(Tokenizer.from_file(str(file)))
    vocab = int(_field(manifest, shards, "vocab_size"))
    if size > vocab:
        raise ConfigError(f"tokenizer {file} has ids up to {size - 1} but {shards / MANIFEST} "
                          f"sizes the model's embedding to vocab_size {vocab}; rebuild the "
                          f"shards with `codekiln curate shards --tokenizer {tokenizer_dir}` "
                          "(it records the tokenizer's full size)")
