"""Near-dedup quality: codekiln vs datatrove vs datasketch against exact Jaccard.

Corpus: the Python sources of two releases each of several PyPI packages (real near
duplicates: files that changed a little between releases, plus exact copies), downloaded
once with ``pip download --no-deps`` into ~/.cache/codekiln-bench (override with
CODEKILN_BENCH_CACHE).

Ground truth, twice: exact Jaccard over codekiln's code-token 5-shingles, and over
datatrove's word 5-grams (so neither shingling is favoured); pairs with J >= threshold,
found exhaustively with a prefix-filtering set-similarity join, joined into connected
components. A component of k files should lose k-1 of them.

Metric over removed documents, independent of which member a tool keeps:
TP = sum over true components C of min(|removed & C|, |C| - 1); FP = removed - TP;
FN = sum(|C| - 1) - TP.

Tools, all at the same (num_perm, bands, rows, shingle size, threshold):
* codekiln: MinHasher + BandSpill; default (links verified against each earlier bucket
  member until one matches, with the 512-bin one-permutation sketch), the previous rule
  (first bucket member only, 128 band values), and verification off;
* datatrove: MinhashDedupSignature/Buckets/Cluster (its own word shingles, as shipped);
* datasketch: MinHash over the same code-token shingles + MinHashLSH(params=(b, r)),
  union-find over query results.

Quality numbers are deterministic; seconds are the median of ``--runs`` rounds in which every
tool runs once, interleaved (so load from other jobs hits all of them alike).

Run: uv run python benchmarks/neardedup_quality.py [--threshold 0.8] [--runs 3]
     uv run python benchmarks/neardedup_quality.py --toy   # offline, ~70 files, seconds

``--toy`` downloads nothing: its corpus is the packages this environment holds in two
releases, installed and vendored inside setuptools or torch (real near duplicates too).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from _common import parse_args, print_ratio

from codekiln_curate.dedup import BandSpill, MinHashConfig, MinHasher, shingle_hashes

PACKAGES = [
    ("requests", "2.28.2", "2.32.3"),
    ("flask", "2.2.5", "3.0.3"),
    ("click", "8.0.4", "8.1.7"),
    ("jinja2", "3.0.3", "3.1.4"),
    ("rich", "12.6.0", "13.9.4"),
    ("httpx", "0.23.3", "0.28.1"),
    ("attrs", "22.2.0", "24.2.0"),
    ("pydantic", "2.5.3", "2.10.3"),
    ("django", "4.2.16", "5.1.4"),
    ("sympy", "1.12", "1.13.3"),
    ("setuptools", "68.0.0", "75.6.0"),
]
#: --toy: (package, its folders under site-packages), each folder another release of it
TOY_COPIES = [
    ("importlib_metadata", ("importlib_metadata", "setuptools/_vendor/importlib_metadata")),
    ("platformdirs", ("platformdirs", "setuptools/_vendor/platformdirs")),
    ("zipp", ("zipp", "setuptools/_vendor/zipp")),
    ("packaging", ("torch/_vendor/packaging", "setuptools/_vendor/packaging")),
]
MIN_SHINGLES = 20  # files with fewer 5-token shingles (tiny __init__.py) are left out


def cache_dir() -> Path:
    root = Path(os.environ.get("CODEKILN_BENCH_CACHE", Path.home() / ".cache" / "codekiln-bench"))
    path = root / "pypi"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch(name: str, version: str) -> Path:
    """The wheel of name==version, downloaded once with pip."""
    folder = cache_dir()
    for wheel in folder.glob("*.whl"):
        stem = wheel.name.lower().replace("_", "-")
        if stem.startswith(f"{name.lower()}-{version}-"):
            return wheel
    pip = shutil.which("pip3") or shutil.which("pip")
    if pip is None:
        sys.exit("error: pip is needed once to download the corpus (pip download --no-deps)")
    subprocess.run(
        [pip, "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
         "-d", str(folder), f"{name}=={version}"],
        check=True, timeout=300,
    )  # fmt: skip
    return fetch(name, version)


def load_corpus() -> dict[str, str]:
    docs: dict[str, str] = {}
    for name, *versions in PACKAGES:
        for version in versions:
            with zipfile.ZipFile(fetch(name, version)) as wheel:
                for member in sorted(wheel.namelist()):
                    if member.endswith(".py"):
                        text = wheel.read(member).decode("utf-8", errors="replace")
                        docs[f"{name}-{version}/{member}"] = text
    return docs


def load_toy_corpus() -> dict[str, str]:
    """The ``.py`` files of each TOY_COPIES folder that exists here (at least two needed)."""
    site = Path(sysconfig.get_paths()["purelib"])
    docs: dict[str, str] = {}
    for name, folders in TOY_COPIES:
        for folder in folders:
            for path in sorted((site / folder).rglob("*.py")):
                relative = path.relative_to(site / folder)
                docs[f"{name}@{folder}/{relative}"] = path.read_text("utf-8", errors="replace")
    if len({key.split("/")[0] for key in docs}) < 2:
        sys.exit(f"error: --toy needs at least two of the folders {TOY_COPIES} under {site}")
    return docs


# ----------------------------------------------------------------------------- ground truth
def true_pairs(shingles: dict[str, np.ndarray], threshold: float) -> list[tuple[str, str]]:
    """Every pair with exact Jaccard >= threshold (prefix filtering, then verification)."""
    keys = list(shingles)
    values, counts = np.unique(np.concatenate(list(shingles.values())), return_counts=True)
    order = np.lexsort((values, counts))  # rarest first
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    postings: dict[int, list[int]] = defaultdict(list)
    candidates: set[tuple[int, int]] = set()
    for i, key in enumerate(keys):
        ranks = np.sort(rank[np.searchsorted(values, shingles[key])])
        size = len(ranks)
        prefix = size - math.ceil(threshold * size) + 1
        for token in ranks[:prefix].tolist():
            for j in postings[token]:
                candidates.add((j, i))
            postings[token].append(i)
    found = []
    for j, i in candidates:
        a, b = shingles[keys[j]], shingles[keys[i]]
        small, large = sorted((len(a), len(b)))
        if small < threshold * large:
            continue
        inter = len(np.intersect1d(a, b, assume_unique=True))
        if inter / (len(a) + len(b) - inter) >= threshold:
            found.append((keys[j], keys[i]))
    return found


def components(keys: list[str], pairs: list[tuple[str, str]]) -> list[set[str]]:
    parent = {k: k for k in keys}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, set[str]] = defaultdict(set)
    for k in keys:
        groups[find(k)].add(k)
    return [g for g in groups.values() if len(g) > 1]


def score(removed: set[str], truth: list[set[str]]) -> dict[str, float]:
    tp = sum(min(len(removed & comp), len(comp) - 1) for comp in truth)
    should = sum(len(comp) - 1 for comp in truth)
    precision = tp / len(removed) if removed else 1.0
    recall = tp / should if should else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"removed": len(removed), "tp": tp, "precision": precision, "recall": recall, "f1": f1}


# ----------------------------------------------------------------------------- tools
def run_codekiln(docs: dict[str, str], config: MinHashConfig) -> set[str]:
    keys = list(docs)
    hasher = MinHasher(config)
    with tempfile.TemporaryDirectory() as tmp:
        spill = BandSpill(Path(tmp) / "spill", config)
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            spill.add(batch, hasher.signatures([docs[k] for k in batch]))
        return spill.duplicates()


def run_datasketch(docs: dict[str, str], config: MinHashConfig) -> set[str]:
    from datasketch import MinHash, MinHashLSH

    bands, rows = config.band_layout
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm, params=(bands, rows))
    keys = list(docs)
    sketches = {}
    for key in keys:
        sketch = MinHash(num_perm=config.num_perm, seed=config.seed)
        sketch.update_batch([int(h).to_bytes(8, "little") for h in shingle_hashes(docs[key])])
        sketches[key] = sketch
        lsh.insert(key, sketch)
    pairs = [(key, other) for key in keys for other in lsh.query(sketches[key]) if other != key]
    return removed_from_pairs(keys, pairs)


def datatrove_signature_step(config: MinHashConfig, folder: str) -> Any:
    """datatrove's signature step at our parameters, with a whitespace word tokenizer.

    datatrove's English tokenizer needs spaCy, absent here; its ``simplify_text`` has already
    dropped punctuation, so splitting on spaces is what spaCy would do to code too.
    """
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.word_tokenizers import WordTokenizer

    class SplitTokenizer(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return text.splitlines()

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            raise NotImplementedError

    bands, rows = config.band_layout
    dt_config = MinhashConfig(
        n_grams=config.shingle_size, num_buckets=bands, hashes_per_bucket=rows, seed=config.seed
    )
    return MinhashDedupSignature(output_folder=folder, config=dt_config, language=SplitTokenizer())


def run_datatrove(docs: dict[str, str], config: MinHashConfig) -> set[str]:
    import struct

    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster

    keys = list(docs)
    with tempfile.TemporaryDirectory() as tmp:
        sigs, buckets, clusters = (f"{tmp}/{name}" for name in ("sigs", "buckets", "clusters"))
        step = datatrove_signature_step(config, sigs)
        documents = (Document(text=docs[k], id=str(i)) for i, k in enumerate(keys))
        step.run(documents, rank=0)
        bands = step.config.num_buckets
        for bucket in range(bands):
            MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=step.config).run(
                rank=bucket, world_size=bands
            )
        MinhashDedupCluster(input_folder=buckets, output_folder=clusters, config=step.config).run()
        remove_file = Path(clusters) / "000000.remove"
        data = remove_file.read_bytes() if remove_file.exists() else b""
    indices = struct.unpack(f"<{len(data) // 4}I", data)
    return {keys[i] for i in indices}


def datatrove_word_shingles(docs: dict[str, str], config: MinHashConfig) -> dict[str, np.ndarray]:
    """Each file's set of datatrove word 5-gram hashes (for the second ground truth)."""
    with tempfile.TemporaryDirectory() as tmp:
        step = datatrove_signature_step(config, tmp)
        return {k: np.unique(step.get_shingles(v).ravel()) for k, v in docs.items()}


def removed_from_pairs(keys: list[str], pairs: list[tuple[str, str]]) -> set[str]:
    """Connected components of candidate pairs; keep the smallest key of each."""
    return {k for comp in components(keys, pairs) for k in comp if k != min(comp)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (median time)")
    args = parse_args(parser, {"runs": 1})

    docs = load_toy_corpus() if args.toy else load_corpus()
    shingles = {k: shingle_hashes(v) for k, v in docs.items()}
    docs = {k: v for k, v in docs.items() if len(shingles[k]) >= MIN_SHINGLES}
    shingles = {k: shingles[k] for k in docs}
    megabytes = sum(len(v) for v in docs.values()) / 1e6
    config = MinHashConfig(threshold=args.threshold)
    bands, rows = config.band_layout
    releases = f"{len(TOY_COPIES)} toy" if args.toy else f"{len(PACKAGES)}"
    print(f"corpus: {len(docs)} Python files, {megabytes:.1f} MB, {releases} packages x 2 "
          f"releases; threshold {args.threshold}, {config.num_perm} perms, {bands} bands x "
          f"{rows} rows, 5-gram shingles")  # fmt: skip
    truths = {
        "code": components(list(docs), true_pairs(shingles, args.threshold)),
        "words": components(
            list(docs), true_pairs(datatrove_word_shingles(docs, config), args.threshold)
        ),
    }
    for name, truth in truths.items():
        print(f"ground truth ({name} shingles): {len(truth)} clusters, "
              f"{sum(len(c) - 1 for c in truth)} files to remove")  # fmt: skip

    tools = {
        "codekiln": lambda: run_codekiln(docs, config),
        "codekiln (first member)": lambda: run_codekiln(
            docs, MinHashConfig(threshold=args.threshold, verify_bins=0, verify_members=1)
        ),
        "codekiln (verify off)": lambda: run_codekiln(
            docs, MinHashConfig(threshold=args.threshold, verify=False, bands=bands, rows=rows)
        ),
        "datatrove": lambda: run_datatrove(docs, config),
        "datasketch": lambda: run_datasketch(docs, config),
    }
    removed: dict[str, set[str]] = {}
    seconds: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, tool in tools.items():
            start = time.perf_counter()
            found = tool()
            seconds[name].append(time.perf_counter() - start)
            if removed.setdefault(name, found) != found:
                sys.exit(f"error: {name} removed different files in two runs")
    results = {name: {t: score(removed[name], truth) for t, truth in truths.items()}
               for name in tools}  # fmt: skip
    median = {name: float(np.median(times)) for name, times in seconds.items()}
    header = ("tool", "removed", "P code", "R code", "F1 code", "P word", "R word", "F1 word",
              "sec", "files/s")  # fmt: skip
    print("\n{:24} {:>7} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7} {:>6} {:>7}".format(*header))
    for name in tools:
        c, w = results[name]["code"], results[name]["words"]
        print(f"{name:24} {len(removed[name]):>7} {c['precision']:>6.3f} {c['recall']:>6.3f} "
              f"{c['f1']:>7.3f} {w['precision']:>6.3f} {w['recall']:>6.3f} {w['f1']:>7.3f} "
              f"{median[name]:>6.1f} {len(docs) / median[name]:>7.0f}")  # fmt: skip
    print("\nseconds per run: " + "; ".join(
        f"{name} {', '.join(f'{t:.1f}' for t in times)}" for name, times in seconds.items()))
    ours = results["codekiln"]
    for peer in ("datatrove", "datasketch"):
        theirs = results[peer]
        ratios = [theirs_s / ours_s for ours_s, theirs_s
                  in zip(seconds["codekiln"], seconds[peer], strict=True)]  # fmt: skip
        print(f"codekiln / {peer}: "
              f"recall {ours['code']['recall']:.4f} vs {theirs['code']['recall']:.4f} (code), "
              f"{ours['words']['recall']:.4f} vs {theirs['words']['recall']:.4f} (word); "
              f"F1 x{ours['code']['f1'] / max(theirs['code']['f1'], 1e-9):.3f} (code), "
              f"x{ours['words']['f1'] / max(theirs['words']['f1'], 1e-9):.3f} (word); "
              f"speed x{median[peer] / median['codekiln']:.2f} (median; per run "
              f"{', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip
        print_ratio(f"F1 (code truth), codekiln / {peer}",
                    ours["code"]["f1"] / max(theirs["code"]["f1"], 1e-9))
        print_ratio(f"speed, {peer} / codekiln seconds", median[peer] / median["codekiln"])
    try:
        load = os.getloadavg()[0]
        print(f"1-minute load average at the end: {load:.1f} on {os.cpu_count()} CPUs")
    except OSError:
        pass


if __name__ == "__main__":
    main()
