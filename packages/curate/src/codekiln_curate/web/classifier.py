"""The fastText recall classifier for code-related pages (seed-coder.md §3).

Seed-Coder trained fastText on a 70% seed / 30% validation gold set and ran it at 99% recall
(45% precision): a cheap, high-recall first pass before the expensive LLM rating. Here:

- the split is by a hash of the page id (stable under reordering and resharding);
- fence marker lines (```lang, written by our own extractor) are removed from the features,
  so the model learns from the page's words and code, not from our markup; punctuation is
  split off so code symbols become tokens;
- training is deterministic (one thread, fixed seed);
- the threshold is the highest score that still recalls ``target_recall`` of the validation
  positives, and precision/recall/F1 are reported at that threshold.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_write_json
from codekiln_curate.web.recipes import TrainClassifierRecipe

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun

POSITIVE = "__label__code"
NEGATIVE = "__label__other"
FEATURES_VERSION = "web-fasttext-v1"
MODEL_FILE = "model.bin"
META_FILE = "classifier.json"
_FENCE_LINE = re.compile(r"^`{3,}[^\n`]*$", re.MULTILINE)
_PUNCT = re.compile(r"([^\w\s])")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TrainParams:
    """fastText hyper-parameters; defaults are small and fast, enough for a recall pass."""

    epoch: int = 25
    lr: float = 0.5
    dim: int = 32
    word_ngrams: int = 2
    bucket: int = 100_000  # hashed n-gram rows; fastText's 2M default makes a 0.5 GB model
    min_count: int = 1
    max_tokens: int = 3000
    seed: int = 0
    validation_share: float = 0.3


@dataclass(frozen=True)
class Metrics:
    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int


def features(text: str, max_tokens: int = 3000) -> str:
    """One line of fastText input: lowercased, punctuation split off, fences removed."""
    body = _FENCE_LINE.sub(" ", text).lower()
    tokens = _SPACE.sub(" ", _PUNCT.sub(r" \1 ", body)).split(" ")
    return " ".join(token for token in tokens[:max_tokens] if token)


def in_validation(page_id: str, seed: int, share: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{page_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000 < share


def metrics_at(threshold: float, scores: Sequence[float], labels: Sequence[bool]) -> Metrics:
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if y and s >= threshold)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if not y and s >= threshold)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if y and s < threshold)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(threshold, precision, recall, f1, tp, fp, fn, tn)


def threshold_for_recall(scores: Sequence[float], labels: Sequence[bool],
                         target_recall: float) -> float:
    """The highest threshold whose recall on ``labels`` is at least ``target_recall``."""
    positives = sorted((s for s, y in zip(scores, labels, strict=True) if y), reverse=True)
    if not positives:
        raise ConfigError("validation split has no positives; add positive pages or lower "
                          "--validation-share")
    needed = max(1, math.ceil(target_recall * len(positives) - 1e-9))
    return positives[needed - 1]


class RecallClassifier:
    """A trained fastText model plus its operating threshold."""

    def __init__(self, model: Any, threshold: float, max_tokens: int) -> None:
        self.model = model
        self.threshold = threshold
        self.max_tokens = max_tokens

    @classmethod
    def load(cls, directory: Path) -> RecallClassifier:
        meta_path = directory / META_FILE
        if not (directory / MODEL_FILE).is_file() or not meta_path.is_file():
            raise ConfigError(f"--model {directory}: expected {MODEL_FILE} and {META_FILE}; "
                              "pass the --output of `codekiln curate web train-classifier`")
        import fasttext

        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        model = fasttext.load_model(str(directory / MODEL_FILE))
        return cls(model, float(meta["threshold"]), int(meta["params"]["max_tokens"]))

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Probability of the code label for each text, clipped to [0, 1]."""
        if not texts:
            return []
        lines = [features(text, self.max_tokens) for text in texts]
        labels, probs = self.model.predict(lines, k=-1)
        out: list[float] = []
        for names, values in zip(labels, probs, strict=True):
            score = dict(zip(names, (float(v) for v in values), strict=True)).get(POSITIVE, 0.0)
            out.append(min(1.0, max(0.0, score)))
        return out


def train_classifier(positives: Sequence[dict[str, Any]], negatives: Sequence[dict[str, Any]],
                     output: Path, *, target_recall: float = 0.99,
                     params: TrainParams | None = None) -> dict[str, Any]:
    """Train, pick the threshold on the validation split, save model + classifier.json."""
    params = params or TrainParams()
    if not 0 < target_recall <= 1:
        raise ConfigError(f"--target-recall {target_recall}: must be in (0, 1]")
    examples = [(str(p["id"]), str(p["text"]), True) for p in positives]
    examples += [(str(p["id"]), str(p["text"]), False) for p in negatives]
    train = [e for e in examples if not in_validation(e[0], params.seed,
                                                      params.validation_share)]
    valid = [e for e in examples if in_validation(e[0], params.seed, params.validation_share)]
    _check_split(train, valid)
    model = _fit(train, params)
    classifier = RecallClassifier(model, 0.0, params.max_tokens)
    scores = classifier.scores([text for _, text, _ in valid])
    labels = [label for _, _, label in valid]
    threshold = threshold_for_recall(scores, labels, target_recall)
    chosen = metrics_at(threshold, scores, labels)
    meta = {
        "threshold": threshold,
        "target_recall": target_recall,
        "features": FEATURES_VERSION,
        "params": asdict(params),
        "train": {"positives": sum(1 for e in train if e[2]),
                  "negatives": sum(1 for e in train if not e[2])},
        "validation": {"positives": sum(labels), "negatives": len(labels) - sum(labels)},
        "metrics": asdict(chosen),
        "metrics_at_0_5": asdict(metrics_at(0.5, scores, labels)),
    }
    output.mkdir(parents=True, exist_ok=True)
    model.save_model(str(output / MODEL_FILE))
    atomic_write_json(output / META_FILE, meta)
    return meta


def _check_split(train: list[tuple[str, str, bool]], valid: list[tuple[str, str, bool]]) -> None:
    for name, rows in (("training", train), ("validation", valid)):
        if not any(label for _, _, label in rows) or all(label for _, _, label in rows):
            raise ConfigError(f"the {name} split needs both positive and negative pages "
                              f"(it has {sum(1 for r in rows if r[2])} positives, "
                              f"{sum(1 for r in rows if not r[2])} negatives); pass more "
                              "seed pages of each kind")


def _fit(train: list[tuple[str, str, bool]], params: TrainParams) -> Any:
    import fasttext

    with tempfile.TemporaryDirectory(prefix="codekiln-fasttext-") as tmp:
        path = Path(tmp) / "train.txt"
        with path.open("w", encoding="utf-8") as handle:
            for _, text, label in train:
                tag = POSITIVE if label else NEGATIVE
                handle.write(f"{tag} {features(text, params.max_tokens)}\n")
        return fasttext.train_supervised(
            input=str(path), epoch=params.epoch, lr=params.lr, dim=params.dim,
            wordNgrams=params.word_ngrams, minCount=params.min_count, bucket=params.bucket,
            thread=1,
            seed=params.seed, verbose=0)


def train_recall_classifier(recipe: TrainClassifierRecipe, run: LineageRun) -> dict[str, Any]:
    """Train on the recipe's seed pages into its output; the model directory is logged as
    a model. Returns the classifier's metadata (threshold, split sizes, metrics)."""
    from codekiln_curate.web.page_table import read_pages

    params = TrainParams(seed=recipe.seed, epoch=recipe.epoch,
                         validation_share=recipe.validation_share)
    meta = train_classifier(read_pages(recipe.positives), read_pages(recipe.negatives),
                            recipe.output, target_recall=recipe.target_recall, params=params)
    run.log_metrics({f"valid_{k}": float(v) for k, v in meta["metrics"].items()})
    run.log_model(recipe.output, name="web-recall-classifier")
    return meta
