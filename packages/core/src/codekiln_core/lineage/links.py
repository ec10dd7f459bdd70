"""Addresses of MLflow UI pages, as links that work wherever the UI is served.

The UI routes inside the URL fragment (``#/experiments/1/runs/ID``), so a link made of the
fragment alone works from any page of the UI, on any host and port. MLflow 3 picks its
view per browser (GenAI unless the user switched) and reads ``workflowType`` from the
link, so every link asks for the model-training view, where runs, datasets and models are.
"""

from __future__ import annotations

from urllib.parse import quote

#: The query that opens a page in the UI's model-training view (MLflow 3.x).
TRAINING_VIEW = "workflowType=machine_learning"


def run_page(experiment_id: str, run_id: str) -> str:
    return f"#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW}"


def artifact_page(experiment_id: str, run_id: str, path: str) -> str:
    """A run's artifact, opened in the run's Artifacts tab (images and HTML previewed)."""
    return f"#/experiments/{experiment_id}/runs/{run_id}/artifacts/{path}?{TRAINING_VIEW}"


def version_page(name: str, version: str | int) -> str:
    return f"#/models/{quote(name, safe='')}/versions/{version}?{TRAINING_VIEW}"


def logged_model_page(experiment_id: str, model_id: str) -> str:
    return f"#/experiments/{experiment_id}/models/{model_id}?{TRAINING_VIEW}"


def registered_models_page() -> str:
    """The registered models list: where ``codekiln lineage ui`` sends people first."""
    return f"#/models?{TRAINING_VIEW}"


def markdown_link(text: str, target: str) -> str:
    """``[text](target)`` with the text's markdown characters escaped."""
    escaped = "".join(f"\\{ch}" if ch in "[]()*_`\\|<>" else ch for ch in text)
    return f"[{escaped}]({target})"
