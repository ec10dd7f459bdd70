"""Curation throughput: codekiln curate vs datatrove on the same real code corpus.

Corpus: source files (.py .pyi .c .h .cc .cpp .hpp .pyx .pxd .js .ts .rs .go .java, <= 200 kB)
under the running Python's standard library and the project venv's site-packages, sorted by
path, first ``--max-files`` (default 50,000). Both systems read the same JSONL dump (written
once, untimed, 16 Parquet files), with the same worker count.

Pipelines:
* ``near`` (like for like): read -> MinHash near dedup (5-token shingles, 112 hashes as
  14 bands x 8 rows, datatrove's defaults) -> write. datatrove runs its four MinhashDedup
  stages (signature, buckets, cluster, filter) with LocalPipelineExecutor + ParquetWriter.
* ``full`` (codekiln only): read -> exact dedup -> near dedup -> language-id -> heuristics
  (with the default recipe's gates); per-stage docs/s from the run's stage timings.

Each system runs in its own subprocess (peak RSS = max over that process tree), ``--runs``
times; the median wall time is reported, with ratios. Usage:

    uv run python benchmarks/curate_throughput.py [--max-files N] [--runs 3] [--workers 2]
    uv run python benchmarks/curate_throughput.py --toy     # all three on 40 files, seconds
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    PeakRss,
    child_result,
    emit_result,
    parse_args,
    print_ratio,
    source_files,
    start_child,
)

EXTENSIONS = {".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".pyx", ".pxd", ".js", ".ts",
              ".rs", ".go", ".java"}
MAX_BYTES = 200_000
CODE_TOKEN = re.compile(r"[^\W\d]\w*|\d[\w.]*|[^\w\s]", re.UNICODE)
DUMP_FILES = 16
TOY = {"max_files": 40, "runs": 1, "workers": 1}


def write_dump(files: list[Path], dump: Path) -> tuple[int, int]:
    """Parquet shards of ``{"text", "path"}``; undecodable files are left out of both runs.

    Parquet rather than JSONL because datatrove's JsonlReader needs orjson, which is not in
    the environment; both systems read these same files.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    dump.mkdir(parents=True)
    parts: list[list[dict[str, str]]] = [[] for _ in range(DUMP_FILES)]
    docs = size = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if not text.strip() or "\0" in text:
            continue
        parts[docs % DUMP_FILES].append({"text": text, "path": str(path)})
        docs += 1
        size += len(text.encode("utf-8"))
    for i, rows in enumerate(parts):
        pq.write_table(pa.Table.from_pylist(rows), dump / f"part-{i:02d}.parquet")
    return docs, size


# ------------------------------------------------------------------ one measured run (child)
def run_codekiln(dump: Path, out: Path, workers: int, pipeline: str) -> dict:
    from codekiln_core.lineage.run import LineageRun
    from codekiln_curate.engine.curation import run_curation
    from codekiln_curate.recipe import CurateRecipe

    near = {"name": "near-dedup", "options": {"num_perm": 112, "bands": 14, "rows": 8,
                                              "shingle_size": 5}}
    stages = [near] if pipeline == "near" else [
        {"name": "exact-dedup"}, near,
        {"name": "language-id", "gates": [{"signal": "is_generated", "equals": False}]},
        {"name": "heuristics", "gates": [{"signal": "alnum_fraction", "min": 0.25},
                                         {"signal": "max_line_length", "max": 1000}]}]
    recipe = CurateRecipe.model_validate({
        "inputs": [{"kind": "parquet", "path": str(dump), "content_column": "text",
                    "repo_column": None}],
        "output": str(out), "workers": workers, "stages": stages, "keep_dropped": False,
        "limits": {"max_file_bytes": MAX_BYTES * 4}})
    result = run_curation(recipe, LineageRun(None))
    timings = json.loads((out / "_state" / "timings.json").read_text())
    stages_out = {name: {"in_docs": s["in_docs"], "in_bytes": s["in_bytes"],
                         "cpu_seconds": timings.get(name, 0.0)}
                  for name, s in result.summary["stages"].items()}
    return {"kept": result.summary["totals"]["kept_docs"], "stages": stages_out}


def run_datatrove(dump: Path, out: Path, workers: int) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.word_tokenizers import WordTokenizer

    class CodeTokenizer(WordTokenizer):
        """Same token rule as codekiln's shingles; datatrove's own tokenizers need spaCy,
        which is not installed here."""

        def word_tokenize(self, text: str) -> list[str]:
            return CODE_TOKEN.findall(text)

        def sent_tokenize(self, text: str) -> list[str]:
            return text.splitlines()

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]

    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    logs = out / "logs"

    def reader() -> ParquetReader:
        return ParquetReader(str(dump), text_key="text", id_key="path",
                             glob_pattern="*.parquet")

    stage_seconds = {}
    plans = [
        ("signatures", [reader(), MinhashDedupSignature(str(out / "sigs"), config=config,
                                                        language=CodeTokenizer())],
         DUMP_FILES),
        ("buckets", [MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"),
                                         config=config)], config.num_buckets),
        ("cluster", [MinhashDedupCluster(str(out / "buckets"), str(out / "ids"),
                                         config=config)], 1),
        ("filter+write", [reader(), MinhashDedupFilter(str(out / "ids")),
                          ParquetWriter(str(out / "data"))], DUMP_FILES),
    ]
    for name, steps, tasks in plans:
        started = time.perf_counter()
        LocalPipelineExecutor(pipeline=steps, tasks=tasks, workers=workers,
                              logging_dir=str(logs / name)).run()
        stage_seconds[name] = time.perf_counter() - started
    import pyarrow.parquet as pq

    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in (out / "data").glob("*.parquet"))
    return {"kept": kept, "stage_wall_seconds": stage_seconds}


def child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    started = time.perf_counter()
    if args.system == "datatrove":
        result = run_datatrove(Path(args.dump), out, args.workers)
    else:
        result = run_codekiln(Path(args.dump), out, args.workers, args.pipeline)
    result["wall_seconds"] = time.perf_counter() - started
    emit_result(result)


# ------------------------------------------------------------------ driver
def measure(system: str, pipeline: str, dump: Path, work: Path, workers: int) -> dict:
    out = work / f"{system}-{pipeline}-{time.monotonic_ns()}"
    cmd = [sys.executable, __file__, "--child", "--system", system, "--pipeline", pipeline,
           "--dump", str(dump), "--out", str(out), "--workers", str(workers)]
    stderr = out.with_suffix(".stderr")
    proc = start_child(cmd, stderr)
    assert proc.stdout is not None
    with PeakRss(proc.pid) as rss:
        stdout = proc.stdout.read()
        proc.wait()
    result = child_result(f"{system} {pipeline}", stdout, proc.returncode, stderr)
    result["peak_rss_mb"] = rss.peak / 2**20
    shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-files", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--system", default="codekiln", help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", default="near", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parse_args(parser, TOY)
    if args.child:
        child(args)
        return
    work = Path(tempfile.mkdtemp(prefix="curate-bench-"))
    try:
        files = source_files(EXTENSIONS, args.max_files, MAX_BYTES)
        docs, size = write_dump(files, work / "dump")
        print(f"corpus: {len(files)} files listed, {docs} UTF-8 documents, {size / 1e6:.1f} MB; "
              f"workers={args.workers}, runs={args.runs}")
        report(docs, size, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(docs: int, size: int, args: argparse.Namespace, work: Path) -> None:
    dump = work / "dump"
    results: dict[str, list[dict]] = {"codekiln-near": [], "datatrove-near": [],
                                      "codekiln-full": []}
    for _ in range(args.runs):
        results["codekiln-near"].append(measure("codekiln", "near", dump, work, args.workers))
        results["datatrove-near"].append(measure("datatrove", "near", dump, work, args.workers))
        results["codekiln-full"].append(measure("codekiln", "full", dump, work, args.workers))
    med: dict[str, float] = {}
    for name, runs in results.items():
        walls = [r["wall_seconds"] for r in runs]
        med[name] = statistics.median(walls)
        rss = max(r["peak_rss_mb"] for r in runs)
        print(f"{name:16s} median {med[name]:7.1f} s  {docs / med[name]:8.0f} docs/s  "
              f"{size / 1e6 / med[name]:6.2f} MB/s  peak RSS {rss:6.0f} MB  "
              f"kept {runs[0]['kept']}  (runs: {', '.join(f'{w:.1f}' for w in walls)})")
    print_ratio("near-dedup pipeline, datatrove / codekiln wall time",
                med["datatrove-near"] / med["codekiln-near"])
    print("codekiln full pipeline, per stage (CPU-seconds summed over workers, last run):")
    for name, s in results["codekiln-full"][-1]["stages"].items():
        secs = s["cpu_seconds"] or float("nan")
        print(f"  {name:12s} {s['in_docs']:7d} docs  {s['in_docs'] / secs:9.0f} docs/s  "
              f"{s['in_bytes'] / 1e6 / secs:7.2f} MB/s per core")
    print("datatrove near pipeline, per stage wall seconds (last run): " + ", ".join(
        f"{k} {v:.1f}" for k, v in results["datatrove-near"][-1]["stage_wall_seconds"].items()))


if __name__ == "__main__":
    main()
