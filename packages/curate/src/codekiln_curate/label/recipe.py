"""The labeling recipe: which files, which teacher, how hard to push it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from codekiln_core.config import RecipeModel

#: The 21 languages of the Seed-Coder labeled set (report Table 17), codekiln names.
SEED_LANGUAGES: tuple[str, ...] = (
    "python", "shell", "ruby", "go", "typescript", "matlab", "java", "c#", "sql",
    "javascript", "css", "kotlin", "php", "c", "restructuredtext", "c++", "html", "r", "tex",
    "markdown", "r markdown",
)


class TeacherConfig(RecipeModel):
    """Where answers come from: an OpenAI-compatible endpoint or a local HF model dir."""

    kind: Literal["openai", "hf"] = Field("openai", description="openai (HTTP chat API) or hf "
                                          "(a local Hugging Face model directory, in-process)")
    mode: Literal["generate", "logprobs"] = Field(
        "generate", description="generate: parse 'Rating: [[X]]' from the answer; logprobs: "
        "expected digit 0-9 (rescaled to 0-10) from the next-token distribution, for "
        "small teachers and endpoints that return top_logprobs")
    top_logprobs: int = Field(20, ge=1, le=20, description="top_logprobs asked of an "
                              "endpoint in logprobs mode")
    base_url: str = Field("http://127.0.0.1:8000/v1", description="chat API base URL; "
                          "requests go to BASE_URL/chat/completions")
    model: str = Field("", description="model name sent to the endpoint (kind openai)")
    api_key_env: str | None = Field(None, description="NAME of the environment variable "
                                    "holding the API key (never the key itself); null: none")
    model_dir: str | None = Field(None, description="local model directory (kind hf); "
                                  "pkg:NAME is the directory of installed package NAME")
    gguf_file: str | None = Field(None, description="GGUF file name inside model_dir (kind hf)")
    temperature: float = Field(0.0, ge=0, le=2, description="sampling temperature")
    max_tokens: int = Field(512, ge=8, description="answer token limit")
    concurrency: int = Field(8, ge=1, le=256, description="requests in flight at once")
    timeout_s: float = Field(120.0, gt=0, description="per-request timeout in seconds")
    max_retries: int = Field(5, ge=0, le=20, description="retries on 408/409/429/5xx, "
                             "connection errors and timeouts (the openai client's backoff, "
                             "Retry-After honoured)")
    batch_size: int = Field(4, ge=1, description="generation batch size (kind hf)")
    device: str = Field("cpu", description="torch device for kind hf, e.g. cpu or cuda")


#: The sample of the Seed-Coder labeled set (Table 17): ~2.7x as many Python files as
#: files of each other language. Applied only when neither count is set in the recipe.
PAPER_QUOTAS: dict[str, int] = {"python": 270}


class SamplingConfig(RecipeModel):
    """Which files get labeled: per-language counts over a seeded shuffle.

    Precedence: ``quotas`` names exceptions and wins for the languages it names;
    ``per_language`` is the count of every other language. Left both unset, the sample is
    the paper's (100 per language, Python 270). Setting only ``per_language`` means what it
    says for every language (the paper's Python exception no longer applies). Setting
    ``per_language`` while ``quotas`` names every sampled language is an error: the count
    would do nothing.
    """

    languages: list[str] = Field(list(SEED_LANGUAGES), description="languages to sample "
                                 "(codekiln names); default: the 21 of the Seed-Coder set")
    per_language: int = Field(100, ge=0, description="files of each language quotas does "
                              "not name")
    quotas: dict[str, int] | None = Field(
        None, description="files per named language, winning over per_language for those "
        "languages; unset: the paper's {python: 270} while per_language is unset too, else "
        "none")
    seed: int = Field(0, description="shuffle seed: same seed, same sample")
    max_chars: int = Field(24000, ge=100, description="files longer than this are truncated "
                           "(marked) before prompting")
    min_chars: int = Field(1, ge=0, description="skip files shorter than this")

    @model_validator(mode="after")
    def _per_language_has_an_effect(self) -> SamplingConfig:
        both = {"per_language", "quotas"} <= self.model_fields_set and self.quotas is not None
        if both and self.languages and all(lang in self.quotas for lang in self.languages):
            given = ", ".join(f"{k}={v}" for k, v in self.quotas.items())
            raise ValueError(
                f"per_language={self.per_language} has no effect: quotas names every sampled "
                f"language ({given}); change the counts in quotas (e.g. quotas."
                f"{self.languages[0]}={self.per_language}) or drop quotas")
        return self

    def effective_quotas(self) -> dict[str, int]:
        """Files to sample per language of ``languages``, precedence applied."""
        if self.quotas is not None:
            exceptions = self.quotas
        elif "per_language" in self.model_fields_set:
            exceptions = {}
        else:
            exceptions = PAPER_QUOTAS
        return {lang: exceptions.get(lang, self.per_language) for lang in self.languages}

    def precedence_note(self) -> str | None:
        """One line when a set per_language and quotas both apply (quotas wins where named)."""
        if self.quotas is None or "per_language" not in self.model_fields_set:
            return None
        named = sorted(lang for lang in self.languages if lang in self.quotas)
        if not named:
            return None
        others = [lang for lang in self.languages if lang not in self.quotas]
        counts = ", ".join(f"{lang}={self.quotas[lang]}" for lang in named)
        return (f"sampling.quotas sets {counts}; per_language={self.per_language} applies to "
                f"the other {len(others)} language(s) only")


class LabelRecipe(RecipeModel):
    """What ``codekiln curate label`` labels, with which teacher, and where it writes."""

    dataset: Path = Field(description="curated dataset (output directory of `curate run`), "
                          "a Parquet file, or a source directory")
    output: Path = Field(description="output directory: labels.parquet, unparsable.parquet, "
                         "stats.json and the request cache")
    teacher: TeacherConfig = Field(default_factory=TeacherConfig,  # type: ignore[arg-type]
                                   description="the teacher model")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig,  # type: ignore[arg-type]
                                     description="which files to label")
    cache: str | None = Field(None, description="request cache (sqlite); default "
                              "OUTPUT/cache.sqlite; shared caches resume across outputs")

    @property
    def cache_path(self) -> Path:
        return Path(self.cache) if self.cache else self.output / "cache.sqlite"
