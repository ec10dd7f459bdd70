"""Shared test data for codekiln-train: real shard sets, and labels for the scorer.

``tiny_shards`` (session): a tokenizer and three shard sets made from real stdlib code by the
real ``codekiln curate tokenizer train`` / ``codekiln curate shards`` commands, exactly as a
user makes them; the pretraining, engine and post-training tests all train on it.

The scorer's labels: no teacher model runs in the tests, so the labels follow three rubric
cases that a real teacher scores far apart: documented library code (8-9), long data dumps (0-1, the
zero-score policy) and files that are one large commented-out block (3-4). Each case is made
from the same real stdlib files, so the scorer must learn shape, not topic.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def stdlib_heads(count: int, lines: int = 60) -> list[tuple[str, str]]:
    """(name, first ``lines`` lines) of the first ``count`` mid-sized stdlib modules."""
    files = [p for p in sorted(STDLIB.glob("*.py")) if 3_000 < p.stat().st_size < 60_000]
    heads = []
    for path in files[:count]:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()[:lines]
        heads.append((path.name, "\n".join(text) + "\n"))
    return heads


def label_rows(per_case: int) -> list[dict[str, Any]]:
    rows = []
    for index, (name, code) in enumerate(stdlib_heads(per_case)):
        table = [{"module": name, "line": k, "width": len(line), "indent":
                  len(line) - len(line.lstrip())} for k, line in enumerate(code.splitlines())]
        cases = [
            ("python", f"lib/{name}", code, 8 + index % 2, "documented library code"),
            ("json", f"data/{name}.json", json.dumps(table, indent=2), index % 2,
             "data file: zero-score policy"),
            ("python", f"old/{name}", "".join(f"# {line}\n" for line in code.splitlines()),
             3 + index % 2, "one large commented-out block"),
        ]
        for language, path, content, score, why in cases:
            ident = hashlib.sha256(f"{path}\0{content}".encode()).hexdigest()
            rows.append({"id": ident, "path": path, "language": language, "content": content,
                         "score": score, "explanation": why})
    return rows


def write_labels(directory: Path, rows: list[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), directory / "labels.parquet")
    return directory


@pytest.fixture(scope="session")
def labels_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~240 labels (80 stdlib modules x 3 cases) in the labeling step's layout."""
    return write_labels(tmp_path_factory.mktemp("labels"), label_rows(80))


@pytest.fixture(scope="session")
def code_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1k-token byte-level BPE trained on ~100 KB of stdlib code, saved for --tokenizer."""
    from codekiln_train.scorer.tokenizer import labels_tokenizer

    texts = [code for _, code in stdlib_heads(40, lines=80)]
    out = tmp_path_factory.mktemp("tokenizer")
    labels_tokenizer(texts, 1024).save_pretrained(str(out))
    return out


#: Few seconds on one core, and enough passes for the three cases to separate.
TEST_OVERRIDES = ["max_tokens=128", "epochs=4", "learning_rate=2e-3"]


def scorer_recipe(labels: Path, output: Path, *overrides: str) -> Any:
    """The tiny preset with :data:`TEST_OVERRIDES`, on CPU, one thread, then ``overrides``."""
    from codekiln_train.scorer.presets import load_scorer_recipe

    return load_scorer_recipe(None, [f"labels={labels}", f"output={output}", "device=cpu",
                                     "threads=1", *TEST_OVERRIDES, *overrides])


@pytest.fixture(scope="session")
def trained_scorer(labels_dir: Path, code_tokenizer_dir: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One trained tiny scorer (no lineage) shared by the tests that only read it."""
    from codekiln_core.lineage import LineageRun
    from codekiln_train.scorer.training import train_scorer

    out = tmp_path_factory.mktemp("scorer") / "ckpt"
    with one_torch_thread():
        return train_scorer(scorer_recipe(labels_dir, out, f"tokenizer={code_tokenizer_dir}"),
                            LineageRun(None))


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Tiny models run ~4x faster on one thread than on two busy shared cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- tiny_shards: real shard sets for the pretraining tests --------------------------------


@dataclass(frozen=True)
class TinyShards:
    """Paths of the session's shard sets (each a finished ``codekiln curate shards`` output).

    All share one tokenizer (vocab 1024, BOS=0, PAD=1, EOS=2, FIM ids 3-5), ``seq_len``
    tokens per sequence and 64 sequences per shard file, so every set spans several files.
    A document is one top-level block of a module (a function, a class, the header), so
    most sequences hold several documents and some documents span sequences and files.
    """

    tokenizer: Path  # Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json)
    code: Path  # 30 stdlib modules (~120K tokens), FIM rate 0.5 (regular pretraining)
    extra: Path  # 20 other modules (~100K tokens), FIM rate 0.1 (a second mixture member)
    validation: Path  # 6 held-out modules (~30K tokens), FIM rate 0.5 (validation set)
    seq_len: int
    vocab_size: int


TINY_SEQ_LEN = 128


def stdlib_modules() -> list[Path]:
    """Top-level stdlib modules of 3-30 KB, sorted: real code, the same on every machine
    with the same Python."""
    return [p for p in sorted(STDLIB.glob("*.py")) if 3_000 < p.stat().st_size < 30_000]


def top_level_blocks(text: str) -> list[str]:
    """A module cut before each top-level ``def``/``class``/decorator: function-sized
    documents, many shorter than a sequence, so packing puts several in one row."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.startswith(("def ", "class ", "@", "async def ")) and blocks[-1] and not (
                blocks[-1][-1].startswith("@")):
            blocks.append([])
        blocks[-1].append(line)
    return ["".join(b) for b in blocks if "".join(b).strip()]


def _write_corpus(files: list[Path], out: Path) -> Path:
    """One JSONL corpus (id, content) of the files' top-level blocks."""
    out.mkdir(parents=True)
    with (out / "documents.jsonl").open("w", encoding="utf-8") as handle:
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            for k, block in enumerate(top_level_blocks(text)):
                handle.write(json.dumps({"id": f"{path.name}#{k}", "content": block}) + "\n")
    return out


def _codekiln(*args: str) -> None:
    from codekiln_core.cli.app import main

    status = main([*args, "--no-lineage"])
    assert status == 0, f"codekiln {' '.join(args)} exited {status}"


def make_shards(root: Path, *, seq_len: int = TINY_SEQ_LEN) -> TinyShards:
    """Corpora -> tokenizer -> three shard sets, through the real curate commands."""
    modules = stdlib_modules()
    code = _write_corpus(modules[0:30], root / "corpus-code")
    extra = _write_corpus(modules[30:50], root / "corpus-extra")
    held_out = _write_corpus(modules[50:56], root / "corpus-validation")
    tokenizer = root / "tokenizer"
    _codekiln("curate", "tokenizer", "train", str(code), "--vocab-size", "1024",
              "--output", str(tokenizer))
    common = ["--tokenizer", str(tokenizer), "--seq-len", str(seq_len),
              "--sequences-per-shard", "64"]
    sets = {"code": (code, "0.5"), "extra": (extra, "0.1"), "validation": (held_out, "0.5")}
    for name, (corpus, fim_rate) in sets.items():
        _codekiln("curate", "shards", f"{name}={corpus}", *common, "--fim-rate", fim_rate,
                  "--output", str(root / f"shards-{name}"))
    vocab = json.loads((root / "shards-code" / "manifest.json").read_text())["vocab_size"]
    return TinyShards(tokenizer, root / "shards-code", root / "shards-extra",
                      root / "shards-validation", seq_len, int(vocab))


@pytest.fixture(scope="session")
def tiny_shards(tmp_path_factory: pytest.TempPathFactory) -> TinyShards:
    """Real shard sets (code, extra, validation) at seq_len 128; read-only: copy to modify."""
    return make_shards(tmp_path_factory.mktemp("tiny-shards"))


# --- pretraining recipes over tiny_shards ---------------------------------------------


def tiny_recipe(shards: Any, output: Path, *, steps: int = 12, second_stage: bool = False,
                **sections: Any) -> dict[str, Any]:
    """A one- or two-stage recipe on ``tiny_shards``: a 2-layer tiny model, 1 thread."""
    stage = {"name": "regular",
             "mixture": [{"path": str(shards.code), "weight": 2.0, "name": "code"},
                         {"path": str(shards.extra), "weight": 1.0, "name": "extra"}],
             "validation": str(shards.validation), "steps": steps,
             "schedule": {"kind": "wsd", "warmup_steps": 2, "decay_fraction": 0.25}}
    recipe: dict[str, Any] = {
        "model": {"preset": "tiny", "num_hidden_layers": 2},
        "engine": {"micro_batch_size": 4, "gradient_accumulation_steps": 2, "lr": 3e-3},
        "stages": [stage],
        "checkpoint": {"every_steps": 4, "keep_last": 2},
        "log": {"every_steps": 1, "eval_every_steps": 6, "eval_batches": 2},
        "seed": 0, "output": str(output)}
    if second_stage:
        recipe["stages"].append({
            "name": "continued", "mixture": [{"path": str(shards.code), "name": "code"}],
            "steps": 4, "lr": 1e-3, "rope_theta": 100000.0,
            "schedule": {"kind": "cosine", "warmup_steps": 0}})
    for key, value in sections.items():
        recipe[key] = {**recipe.get(key, {}), **value}
    return recipe


def write_recipe(path: Path, recipe: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def make_recipe(tiny_shards: Any, tmp_path: Path) -> Any:
    """``make_recipe(name, shards=None, **tiny_recipe_kwargs) -> recipe file``; output under
    tmp_path/name; ``shards`` replaces the session's (an object with the same paths)."""

    def make(name: str, shards: Any = None, **kwargs: Any) -> Path:
        recipe = tiny_recipe(shards or tiny_shards, tmp_path / name, **kwargs)
        return write_recipe(tmp_path / f"{name}.yaml", recipe)

    return make
