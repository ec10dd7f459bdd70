"""The recipes of the ``codekiln curate web`` commands (kept light: ``codekiln --help``
reads them). extract -> seeds -> train-classifier -> classify -> rate; each reads the
previous step's output directory (``pages.parquet``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from codekiln_core.config import RecipeModel
from codekiln_curate.label.recipe import TeacherConfig
from codekiln_curate.web.categories import CATEGORIES

#: The spec's low-quality heuristic: pages with fewer words than this are dropped.
DEFAULT_MIN_WORDS = 10

DEFAULT_CATEGORY_THRESHOLDS: dict[str, int] = {
    "documentation": 7, "e-commerce": 8, "qa-forum": 4, "blog-tutorial": 5, "other": 6,
}


class ExtractRecipe(RecipeModel):
    """Raw pages in, text with code kept out."""

    source: Path = Field(description="directory of .html files, or a JSONL/Parquet file "
                         "with an html column")
    output: Path = Field(description="output directory: pages.parquet, dropped.parquet, "
                         "stats.json")
    min_words: int = Field(DEFAULT_MIN_WORDS, ge=0, description="drop pages with fewer "
                           "words (spec: 10)")
    html_column: str = Field("html", description="field holding the HTML in JSONL/Parquet "
                             "input")


class SeedsRecipe(RecipeModel):
    """Extracted pages split into heuristic positives and negatives."""

    pages: Path = Field(description="output directory of `web extract`")
    output: Path = Field(description="output directory: positives/, negatives/, stats.json")


class TrainClassifierRecipe(RecipeModel):
    """The fastText recall classifier's seed pages and training settings."""

    positives: Path = Field(description="code-related pages (a pages dir or pages.parquet)")
    negatives: Path = Field(description="other pages (a pages dir or pages.parquet)")
    output: Path = Field(description="model directory")
    target_recall: float = Field(0.99, gt=0, le=1, description="the threshold is chosen for "
                                 "this validation recall")
    seed: int = Field(0, description="split and training seed")
    epoch: int = Field(25, ge=1, description="fastText epochs")
    validation_share: float = Field(0.3, ge=0.05, le=0.95, description="share held out "
                                    "(spec: 0.3)")


class ClassifyRecipe(RecipeModel):
    """Pages scored by the recall classifier and split at its threshold."""

    dataset: Path = Field(description="output directory of `web extract`")
    model: Path = Field(description="output of `web train-classifier`")
    output: Path = Field(description="output directory: pages.parquet (kept), "
                         "rejected.parquet, stats.json")
    threshold: float | None = Field(None, ge=0, le=1, description="override the model's "
                                    "threshold")


class WebRateRecipe(RecipeModel):
    """Which teacher rates the pages, and the per-category gate on its scores."""

    dataset: Path = Field(description="output directory of `web classify` or `web extract`")
    output: Path = Field(description="output directory: rated.parquet, kept.parquet, "
                         "unparsable.parquet, stats.json and the request cache")
    teacher: TeacherConfig = Field(default_factory=TeacherConfig,  # type: ignore[arg-type]
                                   description="the teacher model (same keys as label)")
    category_thresholds: dict[str, int] = Field(
        dict(DEFAULT_CATEGORY_THRESHOLDS), description="minimum score to keep a page, per "
        "category (documentation, qa-forum, blog-tutorial, e-commerce, other)")
    max_chars: int = Field(12000, ge=200, description="page text longer than this is cut "
                           "before prompting")
    max_pages: int | None = Field(None, ge=1, description="rate at most this many pages "
                                  "(the first by id order); null: all")
    cache: str | None = Field(None, description="request cache (sqlite); default "
                              "OUTPUT/cache.sqlite")

    @field_validator("category_thresholds")
    @classmethod
    def _merge_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        """A recipe (or ``--set``) naming one category keeps the defaults of the others."""
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; allowed: {list(CATEGORIES)}")
        return {**DEFAULT_CATEGORY_THRESHOLDS, **value}

    @property
    def cache_path(self) -> Path:
        return Path(self.cache) if self.cache else self.output / "cache.sqlite"
