"""What MODEL names: a Hugging Face directory, ``models:/NAME/VERSION`` in the MLflow store,
or (openai-http) a URL. Registered models are downloaded once into a cache keyed by store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codekiln_core.errors import ConfigError

CACHE_DIR = Path(".codekiln") / "serve-models"


@dataclass(frozen=True)
class ModelSource:
    ref: str  # as given
    kind: str  # "local" | "registered" | "url"
    path: Path | None  # the HF directory (after download for registered models)

    @property
    def default_name(self) -> str:
        if self.kind == "registered":
            return self.ref.removeprefix("models:/").replace("/", "-").replace("@", "-")
        if self.path is not None:
            return self.path.resolve().name
        return "upstream"


def resolve_model(ref: str, cache: Path = CACHE_DIR) -> ModelSource:
    if ref.startswith(("http://", "https://")):
        return ModelSource(ref, "url", None)
    if ref.startswith("models:/"):
        return ModelSource(ref, "registered", _download(ref, cache))
    path = Path(ref)
    if not path.is_dir():
        raise ConfigError(f"MODEL {ref!r} is neither a directory, a models:/NAME/VERSION URI "
                          "nor an http(s):// URL (for --engine openai-http)")
    if not (path / "config.json").is_file():
        raise ConfigError(f"MODEL {ref!r} has no config.json; point at a Hugging Face model "
                          "directory (e.g. a `codekiln train` export)")
    return ModelSource(ref, "local", path)


def _download(ref: str, cache: Path) -> Path:
    from codekiln_core.lineage.models import cache_dir, download_model

    return download_model(ref, cache_dir(ref, cache))
