"""Tokenize + FIM + pack throughput: codekiln `write_shards` vs datatrove `DocumentTokenizer`.

Same corpus (stdlib + site-packages source files as one Parquet file), same byte-level BPE
tokenizer (trained here on a sample of the corpus), one process each (the tokenizers
library encodes batches on all cores in both). codekiln does more work per document (FIM at
rate 0.5, packing into fixed-length sequences, sha256 of each shard); datatrove runs with
document shuffling off, which codekiln does not do either. Each run is a child process so
its peak RSS is its own; the median of --runs wall times is reported, with ratios.

    uv run python benchmarks/tokenize_pack.py --max-files 30000 --runs 3
    uv run python benchmarks/tokenize_pack.py --toy     # both sides on 60 files, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    child_result,
    emit_result,
    parse_args,
    print_ratio,
    source_files,
    start_child,
)

EXTENSIONS = {".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".pyx", ".pxd", ".js", ".ts",
              ".rs", ".go", ".java", ".md", ".rst", ".txt"}
MAX_BYTES = 200_000
CORPUS = "corpus.parquet"
TOY = {"max_files": 60, "runs": 1, "vocab": 512, "train_docs": 60, "seq_len": 512}


def write_corpus(files: list[Path], dump: Path) -> tuple[int, int]:
    """One Parquet file of {"id", "text"}; files that are not UTF-8 are left out for both."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dump.mkdir(parents=True)
    ids: list[str] = []
    texts: list[str] = []
    for path in files:
        try:
            texts.append(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        ids.append(str(path))
    pq.write_table(pa.table({"id": ids, "text": texts}), dump / CORPUS, row_group_size=1024)
    return len(texts), sum(len(t.encode("utf-8")) for t in texts)


def train(dump: Path, out: Path, vocab: int, sample: int) -> None:
    from codekiln_core.bpe import train_byte_level_bpe
    from codekiln_curate.tokens.dataset import iter_texts, open_dataset

    batches = iter_texts(open_dataset(dump / CORPUS), 256)
    limited = (b for i, b in enumerate(batches) if i * 256 < sample)
    out.mkdir(parents=True)
    train_byte_level_bpe(limited, vocab).save(str(out / "tokenizer.json"))


# ------------------------------------------------------------------ children
def run_codekiln(dump: Path, tok: Path, out: Path, seq_len: int) -> int:
    from codekiln_curate.tokens.dataset import open_dataset
    from codekiln_curate.tokens.fim import FimConfig
    from codekiln_curate.tokens.shards import ShardSettings, write_shards

    settings = ShardSettings(seq_len=seq_len, sequences_per_shard=4096, fim=FimConfig(0.5))
    result = write_shards([open_dataset(dump / CORPUS)], tok, out, settings)
    return int(result.manifest["total_tokens"])


def run_datatrove(dump: Path, tok: Path, out: Path) -> int:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.tokens.tokenizer import DocumentTokenizer

    from codekiln_core.special_tokens import EOS

    pipeline = [ParquetReader(str(dump), text_key="text", id_key="id"),
                DocumentTokenizer(str(out / "tokens"), str(tok / "tokenizer.json"),
                                  eos_token=EOS, shuffle_documents=False)]
    LocalPipelineExecutor(pipeline, tasks=1, workers=1,
                          logging_dir=str(out / "logs")).run()
    vocab = json.loads((tok / "tokenizer.json").read_text())["model"]["vocab"]
    width = 2 if len(vocab) < 65_536 else 4
    return sum(p.stat().st_size for p in (out / "tokens").glob("*.ds")) // width


def child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    started = time.perf_counter()
    if args.system == "datatrove":
        tokens = run_datatrove(Path(args.dump), Path(args.tok), out)
    else:
        tokens = run_codekiln(Path(args.dump), Path(args.tok), out, args.seq_len)
    wall = time.perf_counter() - started
    emit_result({"tokens": tokens, "wall_seconds": wall})


def measure(system: str, args: argparse.Namespace, work: Path) -> dict[str, float]:
    out = work / f"{system}-{time.monotonic_ns()}"
    cmd = [sys.executable, __file__, "--child", "--system", system, "--dump",
           str(work / "dump"), "--tok", str(work / "tok"), "--out", str(out),
           "--seq-len", str(args.seq_len)]
    stderr = out.with_suffix(".stderr")
    proc = start_child(cmd, stderr)
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    result = child_result(system, stdout, os.waitstatus_to_exitcode(status), stderr)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--max-files", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=32_768)
    parser.add_argument("--train-docs", type=int, default=3_000)
    parser.add_argument("--seq-len", type=int, default=8192)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--system", default="codekiln", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--tok", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parse_args(parser, TOY)
    if args.child:
        child(args)
        return
    work = Path(tempfile.mkdtemp(prefix="tokenize-bench-"))
    try:
        files = source_files(EXTENSIONS, args.max_files, MAX_BYTES)
        docs, size = write_corpus(files, work / "dump")
        train(work / "dump", work / "tok", args.vocab, args.train_docs)
        print(f"corpus: {docs} documents, {size / 1e6:.1f} MB; vocab {args.vocab}, "
              f"seq_len {args.seq_len}, runs {args.runs}")
        report(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(args: argparse.Namespace, work: Path) -> None:
    results: dict[str, list[dict[str, float]]] = {"codekiln": [], "datatrove": []}
    for _ in range(args.runs):
        for system in results:
            results[system].append(measure(system, args, work))
    rate: dict[str, float] = {}
    for system, runs in results.items():
        walls = [r["wall_seconds"] for r in runs]
        median = statistics.median(walls)
        rate[system] = runs[0]["tokens"] / median
        rss = max(r["peak_rss_mb"] for r in runs)
        print(f"{system:10s} {int(runs[0]['tokens']):>11d} tokens  median {median:6.1f} s  "
              f"{rate[system] / 1e6:6.2f} M tokens/s  peak RSS {rss:6.0f} MB  "
              f"(runs: {', '.join(f'{w:.1f}' for w in walls)})")
    print_ratio("tokens/s, codekiln / datatrove", rate["codekiln"] / rate["datatrove"])


if __name__ == "__main__":
    main()
