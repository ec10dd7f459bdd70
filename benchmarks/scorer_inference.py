"""Quality-scorer inference throughput on CPU: codekiln's length-sorted batches vs the
transformers ``text-classification`` pipeline on the same checkpoint, files and batch size.

Setup (untimed): a tiny-preset scorer is trained for one epoch on labels made from the
standard library (documented code 8-9, JSON dumps 0-1, commented-out blocks 3-4), then both
systems score the first ``--files`` standard-library ``.py`` files (sorted by path, whole
files, each truncated to ``--max-tokens``, default 1024 like the stage; the tiny preset is
trained with that context). files/s is the median of ``--runs``
timed runs per setting; the checkpoint is loaded once per system before timing.

    uv run python benchmarks/scorer_inference.py [--files 500] [--runs 3] [--threads 1 2]
    uv run python benchmarks/scorer_inference.py --toy   # 30 labels, 8 files, seconds
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import parse_args, print_ratio

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def stdlib_files(count: int, skip: int = 0) -> list[Path]:
    files = sorted(p for p in STDLIB.rglob("*.py") if "test" not in p.parts
                   and 200 < p.stat().st_size < 200_000)
    return files[skip:skip + count]


def label_rows(count: int) -> list[dict[str, Any]]:
    rows = []
    for index, path in enumerate(stdlib_files(count)):
        code = "\n".join(path.read_text(errors="replace").splitlines()[:60]) + "\n"
        table = [{"line": k, "width": len(line)} for k, line in enumerate(code.splitlines())]
        for lang, content, base in (("python", code, 8), ("json", json.dumps(table, indent=2), 0),
                                    ("python", "".join(f"# {x}\n" for x in code.splitlines()), 3)):
            rows.append({"id": hashlib.sha256(f"{path}{lang}{base}".encode()).hexdigest(),
                         "language": lang, "content": content, "score": base + index % 2})
    return rows


def train_tiny(root: Path, max_tokens: int, label_files: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from codekiln_core.lineage import LineageRun
    from codekiln_train.scorer.presets import load_scorer_recipe
    from codekiln_train.scorer.training import train_scorer

    labels = root / "labels"
    labels.mkdir()
    pq.write_table(pa.Table.from_pylist(label_rows(label_files)), labels / "labels.parquet")
    out = root / "scorer"
    recipe = load_scorer_recipe(None, ["preset=tiny", f"labels={labels}", f"output={out}",
                                       f"max_tokens={max_tokens}", "device=cpu"])
    train_scorer(recipe, LineageRun(None))  # no lineage: a run that records nothing
    return out


def time_runs(fn: Any, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--max-tokens", type=int, default=1024,
                        help="tiny preset's context (the stage's default truncation is 1024)")
    parser.add_argument("--label-files", type=int, default=100,
                        help="stdlib files the training labels come from (3 labels each)")
    args = parse_args(parser, {"files": 8, "runs": 1, "threads": [1], "max_tokens": 128,
                               "label_files": 10})

    import torch
    from transformers import pipeline

    from codekiln_curate.quality.scorer import QualityModel

    with tempfile.TemporaryDirectory() as tmp:
        torch.set_num_threads(1)
        model_dir = train_tiny(Path(tmp), args.max_tokens, args.label_files)
        paths = stdlib_files(args.files, skip=0)
        docs = [{"language": "python", "content": p.read_text(errors="replace")} for p in paths]
        total_mb = sum(len(d["content"].encode()) for d in docs) / 1e6
        ours = QualityModel(model_dir, batch_size=args.batch_size, device="cpu")
        ours.score(docs[:2])  # load weights outside the timing
        template = ours.meta["input_template"]
        texts = [template.replace("{language}", "python").replace("{content}", d["content"])
                 for d in docs]
        peer = pipeline("text-classification", model=str(model_dir), device="cpu",
                        function_to_apply="none")
        kwargs = {"batch_size": args.batch_size, "truncation": True,
                  "max_length": ours.max_tokens}
        tokens = sum(map(len, ours.encode(docs)))
        print(f"{len(docs)} files, {total_mb:.1f} MB, {tokens} tokens after truncation to "
              f"{ours.max_tokens}; batch {args.batch_size}; median of {args.runs}")
        print("| threads | codekiln files/s | pipeline files/s | ratio |")
        print("|---|---|---|---|")
        ratios: dict[int, float] = {}
        for threads in args.threads:
            torch.set_num_threads(threads)
            ours_s = time_runs(lambda: ours.score(docs), args.runs)
            peer_s = time_runs(lambda: peer(texts, **kwargs), args.runs)
            print(f"| {threads} | {len(docs) / ours_s:.1f} | {len(docs) / peer_s:.1f} | "
                  f"x{peer_s / ours_s:.2f} |")
            ratios[threads] = peer_s / ours_s
        ours_scores = ours.score(docs)
        peer_scores = [min(10.0, max(0.0, r["score"] * 10)) for r in peer(texts, **kwargs)]
        gap = max(abs(a - b) for a, b in zip(ours_scores, peer_scores, strict=True))
        print(f"max |codekiln - pipeline| score difference: {gap:.4f}")
    for threads, ratio in ratios.items():
        print_ratio(f"files/s, codekiln / pipeline, {threads} threads", ratio)


if __name__ == "__main__":
    main()
