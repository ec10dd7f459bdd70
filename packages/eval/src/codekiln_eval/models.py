"""What ``--model`` names: a local HF directory, an OpenAI-compatible URL, or ``models:/``.

Registered models are downloaded from the MLflow store to a cache directory and loaded like
any local directory; their ``models:/`` URI is kept as the lineage input so the evaluation
links to the model's run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # "endpoint" | "local" | "registered"
    ref: str  # as given
    path: Path | None = None  # local directory (after download for registered models)

    @property
    def slug(self) -> str:
        text = self.ref.rstrip("/").split("://", 1)[-1]
        return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[-80:]


def parse_model(ref: str) -> ModelSpec:
    if ref.startswith(("http://", "https://")):
        return ModelSpec("endpoint", ref)
    if ref.startswith("models:/"):
        return ModelSpec("registered", ref)
    path = Path(ref)
    if not path.is_dir():
        raise ConfigError(f"--model {ref!r} is neither a directory, an http(s):// endpoint nor "
                          "a models:/NAME/VERSION URI")
    return ModelSpec("local", ref, path)


def download_registered(spec: ModelSpec, cache: Path) -> ModelSpec:
    """Fetch a registered model's files; the HF directory is the one holding config.json."""
    import mlflow

    from codekiln_core.lineage import tracking_uri

    store = tracking_uri()
    mlflow.set_tracking_uri(store)
    # keyed by store too: models:/NAME/1 in another store is another model
    target = cache / f"{spec.slug}-{hashlib.sha256(store.encode()).hexdigest()[:10]}"
    if not (target.exists() and any(target.rglob("config.json"))):
        target.mkdir(parents=True, exist_ok=True)
        try:
            mlflow.artifacts.download_artifacts(artifact_uri=spec.ref, dst_path=str(target))
        except Exception as exc:
            raise ConfigError(f"--model {spec.ref}: cannot download it from the MLflow store "
                              f"({type(exc).__name__}: {str(exc)[:160]})") from exc
    found = sorted(target.rglob("config.json"), key=lambda p: len(p.parts))
    if not found:
        raise ConfigError(f"--model {spec.ref}: the registered model has no config.json "
                          "(not a Hugging Face model directory)")
    return ModelSpec("registered", spec.ref, found[0].parent)


def make_generator(spec: ModelSpec, served_name: str | None = None,
                   concurrency: int = 8) -> Any:
    if spec.kind == "endpoint":
        from codekiln_eval.generate.openai import OpenAIGenerator

        return OpenAIGenerator(spec.ref, model=served_name, concurrency=concurrency)
    assert spec.path is not None
    from codekiln_eval.generate.hf import HFGenerator

    return HFGenerator(spec.path)


def model_input(spec: ModelSpec) -> Any:
    """The lineage input for the model: upstream-linked for local dirs and registered models."""
    from codekiln_core.lineage import InputRef

    if spec.kind == "local" and spec.path is not None:
        return InputRef.from_path(spec.path, name="model")
    return InputRef(name="model", source=spec.ref)
