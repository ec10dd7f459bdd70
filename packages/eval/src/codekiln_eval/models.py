"""What ``--model`` names: a local HF directory, an OpenAI-compatible URL, ``models:/``, or a
released model (a .gguf file, ``pkg:NAME``, a hub id) made a local directory once.

Registered models are downloaded from the MLflow store to a cache directory and loaded like
any local directory; their ``models:/`` URI is kept as the lineage input so the evaluation
links to the model's run.
"""

from __future__ import annotations

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
        return model_slug(self.ref)


def model_slug(ref: str) -> str:
    """A directory name for a model reference (its last 80 safe characters)."""
    text = ref.rstrip("/").split("://", 1)[-1]
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[-80:]


def parse_model(ref: str) -> ModelSpec:
    """An endpoint, a registered version (downloaded later), a local directory, or a
    released model (a .gguf file, pkg:NAME, a hub id) fetched or converted once into a
    local directory by ``codekiln_core.start_model``."""
    if ref.startswith(("http://", "https://")):
        return ModelSpec("endpoint", ref)
    if ref.startswith("models:/"):
        return ModelSpec("registered", ref)
    path = Path(ref)
    if path.is_dir() and ((path / "config.json").is_file() or not any(path.glob("*.gguf"))):
        return ModelSpec("local", ref, path)  # loaded later (a bad one fails there)
    from codekiln_core.start_model import parse_start_model, start_model_dir

    try:
        start = parse_start_model(ref, key="--model")
    except ConfigError as exc:
        raise ConfigError(f"{exc}, or an http(s):// endpoint") from None
    return ModelSpec("released", ref, start_model_dir(start))


def download_registered(spec: ModelSpec, cache: Path) -> ModelSpec:
    """Fetch a registered model's files into ``cache``; the spec then points at its HF dir."""
    from codekiln_core.lineage.models import cache_dir, download_model

    return ModelSpec("registered", spec.ref, download_model(spec.ref, cache_dir(spec.ref, cache)))


def make_generator(spec: ModelSpec, served_name: str | None = None,
                   concurrency: int = 8, fim_layout: str | None = None,
                   fim_api: str = "completions", engine: str = "auto") -> Any:
    """The benchmark's sampler: an endpoint, or the local model on the in-process engine.
    Local FIM prompts use ``fim_layout``, else the layout the model was trained in."""
    from codekiln_core.fim import serving_fim_layout
    from codekiln_core.generation import GeneratorSpec, open_generator
    from codekiln_eval.generate.engine import EvalGenerator

    if spec.kind == "endpoint":
        core = open_generator(GeneratorSpec(model=spec.ref, endpoint_model=served_name,
                                            concurrency=concurrency))
    else:
        assert spec.path is not None
        core = open_generator(GeneratorSpec(model=spec.path, engine=engine))
    layout = serving_fim_layout(fim_layout, spec.path if spec.kind != "endpoint" else None)
    return EvalGenerator(core, fim_layout=layout, fim_api=fim_api, concurrency=concurrency)


def model_input(spec: ModelSpec) -> Any:
    """The lineage input for the model: upstream-linked for local dirs and registered models."""
    from codekiln_core.lineage import InputRef

    if spec.kind == "local" and spec.path is not None:
        return InputRef.from_path(spec.path, name="model")
    if spec.kind == "released":
        from codekiln_core.start_model import parse_start_model, start_model_input

        return start_model_input(parse_start_model(spec.ref), name="model")
    return InputRef(name="model", source=spec.ref)
