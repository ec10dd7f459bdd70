"""Load a quality-scorer checkpoint and score documents in length-sorted batches.

The checkpoint is a plain Hugging Face directory (``AutoModelForSequenceClassification``
with one output); ``codekiln_scorer.json`` beside it, when present, says how the trainer
formatted files (``input_template``) and how outputs map to 0-10 (``score_scale``), so
inference sees files exactly as training did. No import of the training package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError

META_FILE = "codekiln_scorer.json"
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "bfloat16")
MAX_SCORE = 10.0


def check_model_dir(path: str | Path) -> Path:
    """A one-line error before any heavy import when ``path`` is no checkpoint."""
    model_dir = Path(path)
    if not (model_dir / "config.json").is_file():
        what = "no such directory" if not model_dir.is_dir() else "no config.json inside"
        raise ConfigError(f"model {model_dir}: {what}; pass a checkpoint directory written by "
                          "`codekiln train scorer` (or any HF sequence-regression model)")
    return model_dir


def read_meta(model_dir: Path) -> dict[str, Any]:
    """Input template and scale; defaults fit any 1-output model trained on score/10."""
    meta: dict[str, Any] = {"input_template": "{content}", "score_scale": MAX_SCORE}
    path = model_dir / META_FILE
    if path.is_file():
        try:
            meta.update(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ConfigError(f"{path}: invalid JSON ({exc}); retrain or delete it") from exc
    return meta


class QualityModel:
    """A loaded scorer; ``score`` returns one 0-10 float per document, in input order."""

    def __init__(self, model_dir: str | Path, *, max_tokens: int = 1024, batch_size: int = 16,
                 device: str = "auto", dtype: str = "float32") -> None:
        if device not in DEVICES:
            raise ConfigError(f"device {device!r}: choose one of {', '.join(DEVICES)}")
        if dtype not in DTYPES:
            raise ConfigError(f"dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
        if max_tokens < 1 or batch_size < 1:
            raise ConfigError(f"max_tokens={max_tokens}, batch_size={batch_size}: both must "
                              "be at least 1")
        self.model_dir = check_model_dir(model_dir)
        self.meta = read_meta(self.model_dir)
        self.batch_size = batch_size
        self.device, self.dtype = device, dtype
        self._model: Any = None
        self._tokenizer: Any = None
        self._cut: int | None = None
        self.max_tokens = max_tokens

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
            model = AutoModelForSequenceClassification.from_pretrained(
                str(self.model_dir), dtype=getattr(torch, self.dtype))
        except (OSError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(f"model {self.model_dir}: cannot load ({first})") from exc
        if model.config.num_labels != 1:
            raise ConfigError(f"model {self.model_dir}: has {model.config.num_labels} outputs; "
                              "a quality scorer has exactly 1 (regression head)")
        limit = getattr(model.config, "max_position_embeddings", None) or self.max_tokens
        self.max_tokens = min(self.max_tokens, int(limit))  # never past the trained positions
        self._device = device
        self._model = model.to(device).eval()

    def encode(self, docs: Sequence[Mapping[str, Any]]) -> list[list[int]]:
        """Token ids per document, formatted like training and truncated to ``max_tokens``."""
        template = str(self.meta["input_template"])
        cut = self._content_cut()
        texts = [template.replace("{language}", str(d.get("language") or "unknown"))
                 .replace("{content}", str(d.get("content") or "")[:cut]) for d in docs]
        encoded = self._tokenizer(texts, truncation=True, max_length=self.max_tokens)
        return [list(ids) for ids in encoded["input_ids"]]

    def _content_cut(self) -> int:
        """Characters of a file that can reach the first ``max_tokens`` tokens.

        Tokenizing a 300 KB file to keep 256 tokens was most of a scoring run. No token is
        longer than the longest vocabulary entry, so past ``(max_tokens + margin) x that``
        characters nothing reaches the window; the margin covers a word split by the cut.
        """
        if self._cut is None:
            longest = max((len(t) for t in self._tokenizer.get_vocab()), default=1)
            self._cut = (self.max_tokens + 64) * max(1, longest)
        return self._cut

    def score(self, docs: Sequence[Mapping[str, Any]]) -> list[float]:
        """Batches of similar length (longest first) waste little on padding."""
        if not docs:
            return []
        if self._model is None:
            self._load()
        import torch

        ids = self.encode(docs)
        pad = self._model.config.pad_token_id
        pad = int(pad if pad is not None else (self._tokenizer.pad_token_id or 0))
        order = sorted(range(len(ids)), key=lambda i: (-len(ids[i]), i))
        scale = float(self.meta.get("score_scale", MAX_SCORE))
        out = [0.0] * len(ids)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                width = max(1, max(len(ids[i]) for i in chosen))
                batch = torch.full((len(chosen), width), pad, dtype=torch.long)
                mask = torch.zeros_like(batch)
                for row, i in enumerate(chosen):
                    batch[row, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                    mask[row, : len(ids[i])] = 1
                logits = self._model(input_ids=batch.to(self._device),
                                     attention_mask=mask.to(self._device)).logits
                for i, value in zip(chosen, logits[:, 0].float().cpu().tolist(), strict=True):
                    out[i] = to_score(value, scale)
        return out


def to_score(raw: float, scale: float) -> float:
    """Head output to 0-10, clipped, rounded to 4 decimals (stable Parquet bytes)."""
    return round(min(MAX_SCORE, max(0.0, raw * scale)), 4)
