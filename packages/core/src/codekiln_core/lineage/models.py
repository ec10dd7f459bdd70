"""Registered models (``models:/NAME/VERSION``) fetched from the MLflow store as HF directories.

One copy for every stage that takes a model by its registry name (serve, eval, train export).
mlflow is imported inside the functions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_dir


def cache_dir(uri: str, cache: Path) -> Path:
    """Where ``uri`` is kept under ``cache``: keyed by store too (another store, another model)."""
    from codekiln_core.lineage.resolve import concrete_model_uri
    from codekiln_core.lineage.store import tracking_uri

    uri = concrete_model_uri(uri)  # models:/NAME/latest moves on when a version is registered
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in uri.rstrip("/"))[-80:]
    return cache / f"{slug}-{hashlib.sha256(tracking_uri().encode()).hexdigest()[:10]}"


def download_model(uri: str, dest: Path) -> Path:
    """Fetch ``uri`` into ``dest`` (reused when it already holds it); return its HF directory.

    The HF directory is the shallowest one holding ``config.json``. The download goes through
    :func:`~codekiln_core.fsio.atomic_dir`, so a killed fetch never looks like a cached model.
    """
    if not uri.startswith("models:/"):
        raise ConfigError(f"{uri!r}: expected a registered model, models:/NAME/VERSION")
    if not _model_dirs(dest):
        from codekiln_core.lineage.resolve import concrete_model_uri

        _fetch(concrete_model_uri(uri), dest)
    found = _model_dirs(dest)
    if not found:
        raise ConfigError(f"{uri}: the registered model has no config.json (not a Hugging Face "
                          "model directory; was it logged by a codekiln train command?)")
    return found[0]


def _model_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p.parent for p in sorted(root.rglob("config.json"), key=lambda p: len(p.parts))]


def _fetch(uri: str, dest: Path) -> None:
    from codekiln_core.lineage.store import connect, tracking_uri

    store = tracking_uri()
    with atomic_dir(dest) as staged:
        try:
            connect(create=False)  # the fluent download below reads the store it points at
            import mlflow

            mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(staged))
        except Exception as exc:
            raise ConfigError(f"{uri}: cannot download it from the MLflow store {store} "
                              f"({type(exc).__name__}: {str(exc)[:200]})") from exc
