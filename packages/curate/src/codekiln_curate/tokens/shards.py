"""Write packed shards: datasets -> tokens (FIM, EOS) -> fixed-size .bin/.idx pairs + manifest.

Deterministic: the stream order is fixed (datasets in the given order, each one's parts and
rows in order, mixture copies after the original) and FIM depends only on (seed, doc id), so
the same inputs give byte-identical shards. Resumable: each shard's files are written to
temp names and renamed, then a marker with the stream cursor is written; a rerun continues
after the last marker without re-tokenizing what came before.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_write_bytes, atomic_write_json, remove_stale_temps
from codekiln_core.shards import vocab_rows
from codekiln_curate.engine.storage import foreign_entries
from codekiln_curate.tokens import manifest as mf
from codekiln_curate.tokens.dataset import Dataset, iter_batches, open_dataset_arg
from codekiln_curate.tokens.encode import DocumentEncoder
from codekiln_curate.tokens.fim import FimConfig
from codekiln_curate.tokens.pack import Cursor, Packer, ShardBuffer
from codekiln_curate.tokens.recipes import ShardsRecipe
from codekiln_curate.tokens.tokenizer import bos_id, load_tokenizer, special_ids, tokenizer_hash

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.run import LineageRun


@dataclass(frozen=True)
class ShardSettings:
    seq_len: int = 8192
    sequences_per_shard: int = 2048
    fim: FimConfig = field(default_factory=FimConfig)
    mix: dict[str, float] = field(default_factory=dict)
    batch_docs: int = 512

    def __post_init__(self) -> None:
        if self.seq_len < 2 or self.sequences_per_shard < 1:
            raise ConfigError(f"--seq-len {self.seq_len} / --sequences-per-shard "
                              f"{self.sequences_per_shard} must be >= 2 / >= 1")


@dataclass
class ShardResult:
    out: Path
    manifest: dict[str, Any]
    resumed_shards: int


def mixture(datasets: list[Dataset], mix: dict[str, float]) -> dict[str, float]:
    """Weight per dataset name (default 1.0); unknown names are an error."""
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        raise ConfigError(f"dataset names {names} repeat; name them with NAME=PATH")
    unknown = sorted(set(mix) - set(names))
    if unknown:
        raise ConfigError(f"--mix names {unknown} match no dataset; known: {names}")
    bad = {k: v for k, v in mix.items() if not (v >= 0 and math.isfinite(v))}
    if bad:
        raise ConfigError(f"--mix weights {bad} must be finite and >= 0")
    return {name: float(mix.get(name, 1.0)) for name in names}


def _kept_copy(seed: int, doc_id: str, copy: int, weight: float) -> bool:
    """Whole copies for the integer part of the weight, a seeded sample for the fraction."""
    if copy < math.floor(weight):
        return True
    key = f"mix\x00{seed}\x00{doc_id}\x00{copy}".encode()
    draw = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") / 2.0**64
    return draw < weight - math.floor(weight)


Stream = Iterator[tuple[str, int, int, list[str], list[str]]]


def stream(datasets: list[Dataset], weights: dict[str, float], seed: int,
           batch_docs: int) -> Stream:
    """(source, copy, ordinal of the first doc, ids, texts) in the fixed stream order."""
    ordinal = 0
    for dataset in datasets:
        weight = weights[dataset.name]
        for copy in range(math.ceil(weight)):
            for ids, texts in iter_batches(dataset, batch_docs):
                if copy >= math.floor(weight):
                    pairs = [(i, t) for i, t in zip(ids, texts, strict=True)
                             if _kept_copy(seed, i, copy, weight)]
                    ids, texts = [p[0] for p in pairs], [p[1] for p in pairs]
                if ids:
                    yield dataset.name, copy, ordinal, ids, texts
                    ordinal += len(ids)


def _fingerprint(datasets: list[Dataset], tok_hash: str, settings: ShardSettings,
                 weights: dict[str, float]) -> dict[str, Any]:
    parts = [[d.name, [[p.name, p.stat().st_size] for p in d.parts]] for d in datasets]
    return {"datasets": parts, "tokenizer_sha256": tok_hash, "seq_len": settings.seq_len,
            "sequences_per_shard": settings.sequences_per_shard, "mix": weights,
            "fim": {"rate": settings.fim.rate, "mode": settings.fim.mode},
            "seed": settings.fim.seed}


def _completed(out: Path, fingerprint: dict[str, Any]) -> list[dict[str, Any]]:
    """Markers of shards already written by the same settings; refuse a foreign directory."""
    state = out / mf.STATE / "settings.json"
    remove_stale_temps(state.parent)
    if state.is_file():
        if json.loads(state.read_text(encoding="utf-8")) != fingerprint:
            raise ConfigError(f"output {out} holds shards of other inputs or settings; pass "
                              "another --output or delete it to start over")
    elif foreign_entries(out, mf.STATE):  # a run killed before its settings: none
        raise ConfigError(f"output {out} exists and is not a shards directory; pass an empty "
                          "or new --output")
    (out / mf.STATE).mkdir(parents=True, exist_ok=True)
    atomic_write_json(state, fingerprint)
    markers: list[dict[str, Any]] = []
    while mf.marker_path(out, len(markers)).is_file():
        markers.append(json.loads(mf.marker_path(out, len(markers)).read_text("utf-8")))
    remove_stale_temps(out)
    return _intact(out, markers, int(fingerprint["seq_len"]))


def _intact(out: Path, markers: list[dict[str, Any]], seq_len: int) -> list[dict[str, Any]]:
    """The finished shards before the first whose files no longer match its marker (sizes
    and sha256, cached like a trainer's check); that one and the rest are written again."""
    from codekiln_core.shard_verify import DamagedShard, FactsCache, check_shard

    cache = FactsCache(out)
    try:
        for position, marker in enumerate(markers):
            try:
                check_shard(out, {"seq_len": seq_len}, marker, cache)
            except DamagedShard as exc:
                print(f"curate shards: {exc.problem}; rewriting shards "
                      f"{position}..{len(markers) - 1}", file=sys.stderr)
                (out / mf.MANIFEST).unlink(missing_ok=True)  # the directory is not whole
                for later in range(position, len(markers)):
                    mf.marker_path(out, later).unlink()
                return markers[:position]
    finally:
        cache.save()
    return markers


def _flusher(out: Path, seq_len: int, pad: int, markers: list[dict[str, Any]]
             ) -> Callable[[ShardBuffer, Cursor], None]:
    def flush(buffer: ShardBuffer, cursor: Cursor) -> None:
        real = buffer.fill
        padded = -(-real // seq_len) * seq_len
        buffer.tokens[real:padded] = pad
        data, starts = buffer.tokens[:padded].tobytes(), buffer.starts_array().tobytes()
        atomic_write_bytes(out / mf.bin_name(buffer.index), data)
        atomic_write_bytes(out / mf.idx_name(buffer.index), starts)
        marker = {"bin": mf.bin_name(buffer.index), "idx": mf.idx_name(buffer.index),
                  "tokens": real, "sequences": padded // seq_len,
                  "documents": len(buffer.starts), "fim_docs": buffer.fim_docs,
                  "sha256": hashlib.sha256(data).hexdigest(),
                  "idx_sha256": hashlib.sha256(starts).hexdigest(),
                  "source_tokens": buffer.source_tokens, "source_docs": buffer.source_docs,
                  "cursor": {"doc": cursor.doc, "offset": cursor.offset}}
        atomic_write_bytes(mf.marker_path(out, buffer.index),
                           json.dumps(marker, sort_keys=True).encode())
        markers.append(marker)
    return flush


def write_shards(datasets: list[Dataset], tokenizer_dir: Path, out: Path,
                 settings: ShardSettings, advance: Callable[[int], None] | None = None
                 ) -> ShardResult:
    """Tokenize, FIM, pack and write every dataset; resume after the last finished shard."""
    tokenizer = load_tokenizer(tokenizer_dir)
    specials = special_ids(tokenizer, tokenizer_dir, need_fim=settings.fim.rate > 0)
    weights = mixture(datasets, settings.mix)
    tok_hash = tokenizer_hash(tokenizer_dir)
    fingerprint = _fingerprint(datasets, tok_hash, settings, weights)
    markers = _completed(out, fingerprint)
    resumed = len(markers)
    last = markers[-1]["cursor"] if markers else {"doc": 0, "offset": 0}
    cursor = Cursor(last["doc"], last["offset"])
    encoder = DocumentEncoder(tokenizer, specials, settings.fim)
    packer = Packer(settings.seq_len * settings.sequences_per_shard,
                    _flusher(out, settings.seq_len, specials.pad, markers),
                    first_shard=resumed, cursor=cursor)
    for source, copy, first, ids, texts in stream(datasets, weights, settings.fim.seed,
                                                  settings.batch_docs):
        if first + len(ids) <= cursor.doc:
            continue  # packed before the interruption
        skip = max(0, cursor.doc - first)
        batch = encoder.encode(ids[skip:], texts[skip:], copy)
        packer.add(batch.tokens, batch.lengths, batch.fim_flags, source, first + skip)
        if advance is not None:
            advance(len(ids) - skip)
    packer.finish()
    settings_out = {
        "tokenizer": {"path": str(tokenizer_dir.resolve()), "sha256": tok_hash},
        "seq_len": settings.seq_len, "sequences_per_shard": settings.sequences_per_shard,
        "dtype": "uint32", "seed": settings.fim.seed,
        # What a trainer sizes its embeddings and generation config from (never typed twice).
        "vocab_size": vocab_rows(tokenizer),
        "fim": {"rate": settings.fim.rate, "mode": settings.fim.mode,
                "tokens": fim_token_names(tokenizer)},
        "special_ids": {"bos": bos_id(tokenizer, tokenizer_dir), "eos": specials.eos,
                        "pad": specials.pad,
                        "fim_prefix": specials.fim_prefix, "fim_suffix": specials.fim_suffix,
                        "fim_middle": specials.fim_middle},
        "mixture_weights": weights,
        "datasets": [{"name": d.name, "path": str(d.root.resolve())} for d in datasets]}
    manifest = mf.build_manifest(settings_out, markers, weights)
    mf.write_manifest(out, manifest)
    return ShardResult(out, manifest, resumed)


def fim_token_names(tokenizer: Any) -> list[str] | None:
    """The tokenizer's FIM sentinels (prefix, suffix, middle) by name, as the manifest
    records them: serving and evaluation find the same triple (``codekiln_core.fim``)."""
    from codekiln_core.fim import find_fim_tokens

    found = find_fim_tokens(tokenizer)
    return list(found.names) if found is not None else None


def pack_shards(recipe: ShardsRecipe, run: LineageRun) -> ShardResult:
    """Write (or, in an output a killed run left, continue) the recipe's shards; record
    them in ``run`` as output ``shards``."""
    datasets = [open_dataset_arg(value) for value in recipe.datasets]
    settings = ShardSettings(seq_len=recipe.seq_len,
                             sequences_per_shard=recipe.sequences_per_shard,
                             fim=FimConfig(recipe.fim_rate, recipe.fim_mode, recipe.seed),
                             mix=recipe.weights)
    result = write_shards(datasets, recipe.tokenizer, recipe.output, settings)
    if run.enabled:  # digesting the shards is skipped without lineage: they can be large
        manifest = result.manifest
        run.log_metrics({"tokens": manifest["total_tokens"],
                         "sequences": manifest["total_sequences"],
                         "documents": manifest["total_documents"],
                         "fim_documents": manifest["fim_documents"]})
        run.log_artifact(recipe.output / "manifest.json")
        run.log_output(recipe.output, name="shards")
    return result


def shard_inputs(recipe: ShardsRecipe) -> Iterator[InputRef]:
    """The datasets and the tokenizer, found now (one-line errors), digested only when
    lineage records them; their markers link the runs that made them."""
    from codekiln_curate.lineage_inputs import named_inputs

    datasets = [open_dataset_arg(value) for value in recipe.datasets]
    return named_inputs(*[("datasets", d.root, d.name) for d in datasets],
                        ("tokenizer", recipe.tokenizer, "tokenizer"))
