"""One pass over one shard: the unit of work both executors run, unchanged.

Inputs come from the reader (pass 0) or the previous pass's kept file; the previous global
stage's decisions are applied first, then the pass's per-document stages, then the keys of
the next global stage are emitted. Outputs are written atomically and a completion marker
last, so a rerun skips finished shards and redoes the rest from scratch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from codekiln_curate.documents import READ_STAGE, Skip, output_schema, rows_to_table
from codekiln_curate.engine import layout
from codekiln_curate.engine.inputs import read_shard
from codekiln_curate.engine.stage_runner import Doc, StageStats
from codekiln_curate.engine.storage import read_json, write_json, write_parquet
from codekiln_curate.readers.shard import Shard


@dataclass(frozen=True)
class PassTask:
    """Everything a worker needs, as plain data (travels to processes and Ray actors)."""

    recipe: dict[str, Any]
    fingerprint: str
    out_dir: str
    pass_index: int
    shard: dict[str, Any]


_CACHE: dict[tuple[str, int], Any] = {}


def _pass_setup(task: PassTask) -> Any:
    """Constructed stages of this pass, built once per worker process."""
    key = (task.fingerprint, task.pass_index)
    if key not in _CACHE:
        from codekiln_curate.engine.pass_setup import PassSetup

        _CACHE.clear()
        _CACHE[key] = PassSetup.build(task.recipe, task.pass_index)
    return _CACHE[key]


def run_pass_task(task: PassTask) -> dict[str, Any]:
    """Process one shard for one pass; returns (and stores) its stats.

    A shard whose completion marker exists is not processed again: the marker is its
    result (a retried or reconstructed Ray task whose first attempt finished the shard).
    """
    out = Path(task.out_dir)
    shard = Shard.from_json(task.shard)
    sid = shard.shard_id
    done = layout.marker(out, task.pass_index, sid)
    if done.is_file():
        finished: dict[str, Any] = read_json(done)
        return finished
    setup = _pass_setup(task)
    dropped: list[Doc] = []
    stats: dict[str, Any] = {}
    docs = _load_input(task, setup, shard, dropped, stats)
    if setup.apply_global is not None:
        docs = _apply_decisions(out, task.pass_index, sid, setup.apply_global, docs, dropped,
                                stats)
    for runner in setup.runners:
        docs, stage_stats = runner.run(docs, dropped)
        stats[runner.name] = stage_stats.as_json()
    if setup.global_after is not None:
        started = time.perf_counter()
        keys = setup.global_after.keys(docs)
        stats[setup.global_after.name] = {"seconds": round(time.perf_counter() - started, 6)}
        write_parquet(keys, layout.keys_file(out, task.pass_index, sid))
    if setup.is_final:
        result = _write_final(out, task.pass_index, sid, setup, docs, dropped, stats)
    else:
        schema = output_schema(setup.signal_fields, dropped=False)
        write_parquet(rows_to_table(docs, schema), layout.kept_file(out, task.pass_index, sid))
        dschema = output_schema(setup.signal_fields, dropped=True)
        write_parquet(rows_to_table(dropped, dschema),
                      layout.dropped_file(out, task.pass_index, sid))
        result = {"shard": sid, "stages": stats}
    write_json(result, done)
    return result


def _load_input(task: PassTask, setup: Any, shard: Shard, dropped: list[Doc],
                stats: dict[str, Any]) -> list[Doc]:
    out = Path(task.out_dir)
    if task.pass_index > 0:
        kept: list[Doc] = pq.read_table(
            layout.kept_file(out, task.pass_index - 1, shard.shard_id)).to_pylist()
        return kept
    read = StageStats()
    started = time.perf_counter()
    docs: list[Doc] = []
    for item in read_shard(shard, setup.max_file_bytes, setup.registry):
        read.in_docs += 1
        read.in_bytes += item.size_bytes if isinstance(item, Skip) else item["size_bytes"]
        if isinstance(item, Skip):
            read.drop(item.reason, item.size_bytes)
            dropped.append(item.as_dropped())
        else:
            docs.append(item)
    read.seconds = time.perf_counter() - started
    read.out_docs, read.out_bytes = len(docs), sum(d["size_bytes"] for d in docs)
    stats[READ_STAGE] = read.as_json()
    return docs


def _apply_decisions(out: Path, pass_index: int, sid: str, stage: Any, docs: list[Doc],
                     dropped: list[Doc], stats: dict[str, Any]) -> list[Doc]:
    started = time.perf_counter()
    table = pq.read_table(layout.decisions_file(out, pass_index - 1, sid))
    decisions = {row["id"]: (row["cluster"], row["reason"]) for row in table.to_pylist()}
    st = StageStats(len(docs), sum(d["size_bytes"] for d in docs))
    kept: list[Doc] = []
    for doc in docs:
        cluster, reason = decisions.get(doc["id"], (None, None))
        doc[stage.cluster_column] = cluster
        if reason:
            st.drop(reason, doc["size_bytes"])
            dropped.append({**doc, "drop_stage": stage.name, "drop_reason": reason})
        else:
            kept.append(doc)
    st.out_docs, st.out_bytes = len(kept), sum(d["size_bytes"] for d in kept)
    st.seconds = time.perf_counter() - started
    stats[stage.name] = st.as_json()
    return kept


def _write_final(out: Path, pass_index: int, sid: str, setup: Any, docs: list[Doc],
                 dropped: list[Doc], stats: dict[str, Any]) -> dict[str, Any]:
    earlier: list[Doc] = []
    for k in range(pass_index):
        earlier.extend(pq.read_table(layout.dropped_file(out, k, sid)).to_pylist())
    all_dropped = earlier + dropped
    write_parquet(rows_to_table(docs, output_schema(setup.signal_fields, dropped=False)),
                  layout.data_file(out, sid))
    if setup.keep_dropped:
        write_parquet(rows_to_table(all_dropped, output_schema(setup.signal_fields,
                                                               dropped=True)),
                      layout.dropped_output_file(out, sid))
    return {"shard": sid, "stages": stats, "languages": language_counts(docs, all_dropped)}


def language_counts(kept: list[Doc], dropped: list[Doc]) -> dict[str, list[int]]:
    """language -> [kept docs, kept bytes, dropped docs, dropped bytes]."""
    table: dict[str, list[int]] = {}
    for rows, offset in ((kept, 0), (dropped, 2)):
        for doc in rows:
            entry = table.setdefault(doc.get("language") or "unknown", [0, 0, 0, 0])
            entry[offset] += 1
            entry[offset + 1] += int(doc.get("size_bytes") or 0)
    return dict(sorted(table.items()))
