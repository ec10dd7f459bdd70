"""What MODEL names: a Hugging Face directory, ``models:/NAME/VERSION`` in the MLflow store,
or (openai-http) a URL. Registered models are downloaded once into a cache keyed by store."""

from __future__ import annotations

import hashlib
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
    """The registered model's files; the HF directory is the shallowest one with config.json."""
    from codekiln_core.lineage.store import quiet_mlflow, tracking_uri

    quiet_mlflow()
    import mlflow

    store = tracking_uri()
    mlflow.set_tracking_uri(store)
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in ref)[-80:]
    target = cache / f"{slug}-{hashlib.sha256(store.encode()).hexdigest()[:10]}"
    if not (target.is_dir() and any(target.rglob("config.json"))):
        target.mkdir(parents=True, exist_ok=True)
        try:
            mlflow.artifacts.download_artifacts(artifact_uri=ref, dst_path=str(target))
        except Exception as exc:
            raise ConfigError(f"MODEL {ref}: cannot fetch it from the MLflow store {store} "
                              f"({type(exc).__name__}: {str(exc)[:200]})") from exc
    found = sorted(target.rglob("config.json"), key=lambda p: len(p.parts))
    if not found:
        raise ConfigError(f"MODEL {ref}: the registered model has no config.json (not a "
                          "Hugging Face model directory)")
    return found[0].parent
