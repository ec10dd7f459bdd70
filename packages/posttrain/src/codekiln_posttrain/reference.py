"""DPO's reference log-probs: computed once from the start model, shared out over the ranks,
and kept in ``<output>/reference_logps.jsonl`` under the key they were computed for.

The key is a digest of the reference model (its files), the data (every pair's token ids,
so the dataset, tokenizer, chat template and ``max_seq_len`` all count) and the settings
that change the numbers (scoring batch, dtype). A resumed run reuses the file only when its
key matches; any other file is refused, never read: a reference from another model or data
trains towards the wrong target without a visible error.

Pairs are scored in fixed chunks of :data:`BATCH` in data order, chunk ``i`` on rank
``i % world``: every chunk is the same padded batch at any world size, so the values do not
depend on how many ranks computed them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_write_text

if TYPE_CHECKING:
    from codekiln_posttrain.dpo import Pair

#: Pairs scored together (the padding of a batch can move the last bits of a log-prob).
BATCH = 8
FILE = "reference_logps.jsonl"


def reference_key(model: str, pairs: Sequence[Pair]) -> dict[str, str]:
    """What the stored values were computed from: model files, pair tokens, settings."""
    from codekiln_core.lineage.refs import digest_path

    model_dir = Path(model)
    data = hashlib.sha256()
    for pair in pairs:
        data.update(json.dumps([pair.id, pair.prompt, pair.chosen, pair.rejected]).encode())
    return {"model": digest_path(model_dir) if model_dir.is_dir() else f"hf:{model}",
            "data": data.hexdigest()[:16],
            "settings": f"batch={BATCH},dtype=float32,sum-of-answer-token-logps"}


def read_stored(path: Path, key: dict[str, str]) -> dict[str, tuple[float, float]] | None:
    """The stored values when ``path`` holds them for ``key``; None when there is no file;
    a one-line error when it was computed for something else."""
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0]).get("key") if lines else None
        rows = [json.loads(line) for line in lines[1:]]
    except (ValueError, AttributeError):
        header, rows = None, []
    if header != key:
        differs = [name for name in key if not isinstance(header, dict)
                   or header.get(name) != key[name]]
        raise ConfigError(
            f"{path}: reference log-probs computed for another {'/'.join(differs) or 'run'} "
            f"(stored key {header!r}, this run {key!r}); resume with the start model, data "
            "and settings the run began with, or delete the file to recompute it")
    return {row["id"]: (float(row["chosen"]), float(row["rejected"])) for row in rows}


def write_stored(path: Path, key: dict[str, str], values: dict[str, tuple[float, float]]
                 ) -> None:
    """The key line, then one ``{"id", "chosen", "rejected"}`` line per pair (atomically)."""
    lines = [json.dumps({"key": key})]
    lines += [json.dumps({"id": pair_id, "chosen": c, "rejected": r})
              for pair_id, (c, r) in sorted(values.items())]
    atomic_write_text(path, "\n".join(lines) + "\n")


def score_pairs(engine: Any, pairs: Sequence[Pair], collate: Callable[[list[Pair]], Any]
                ) -> dict[str, tuple[float, float]]:
    """Every pair's reference log-probs; each rank scores its chunks, all ranks get all."""
    from codekiln_posttrain.dpo_loss import reference_logps
    from codekiln_posttrain.ranks import share_out

    def score(_: int, chunk: list[Pair]) -> list[tuple[str, float, float]]:
        batch = {k: v.to(engine.device) for k, v in collate(chunk).items()}
        chosen, rejected = reference_logps(engine.wrapped, [batch])
        return [(p.id, c, r) for p, c, r in zip(chunk, chosen, rejected, strict=True)]

    chunks = [list(pairs[i:i + BATCH]) for i in range(0, len(pairs), BATCH)]
    return {pair_id: (c, r) for part in share_out(chunks, score) for pair_id, c, r in part}


def with_reference(engine: Any, pairs: list[Pair], collate: Callable[[list[Pair]], Any],
                   output: Path, model: str) -> list[Pair]:
    """The pairs with their reference log-probs: the stored ones when the key matches,
    else scored now (by the engine's start weights) and stored by rank 0."""
    from codekiln_posttrain.ranks import barrier, is_rank_zero

    path, key = output / FILE, reference_key(model, pairs)
    values = read_stored(path, key)
    if values is None:
        values = score_pairs(engine, pairs, collate)
        if is_rank_zero():
            write_stored(path, key, values)
        barrier()
    return [replace(p, ref_chosen=values[p.id][0], ref_rejected=values[p.id][1])
            for p in pairs]
