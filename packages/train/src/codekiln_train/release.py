"""``codekiln train export``: a registered model version as a standalone HF directory."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun

REQUIRED = ("config.json", "model.safetensors")


@dataclass
class ReleaseResult:
    output: Path
    commit_url: str | None


def model_directory(root: Path) -> Path:
    """The HF checkpoint directory of a downloaded registered model; it must hold weights."""
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    if missing:
        raise ConfigError(f"the registered model lacks {', '.join(missing)}; re-export it")
    return root


def release(ref: str, output: Path, run: LineageRun, *, push_to_hub: str | None = None,
            hub_token: str | None = None, private: bool = False) -> ReleaseResult:
    """Download ``models:/NAME/N`` into ``output`` (atomically); optionally upload it."""
    if not ref.startswith("models:/"):
        raise ConfigError(f"{ref!r}: expected a registered model, models:/NAME/VERSION")
    from codekiln_core.disk import tree_bytes
    from codekiln_core.fsio import atomic_dir
    from codekiln_core.lineage.models import download_model
    from codekiln_core.lineage.refs import MARKER_NAME

    with tempfile.TemporaryDirectory(dir=output.parent if output.parent.exists()
                                     else None) as tmp:
        source = model_directory(download_model(ref, Path(tmp) / "model"))
        with atomic_dir(output, expected_bytes=tree_bytes(source)) as staged:
            for item in source.iterdir():
                if item.name == MARKER_NAME:
                    continue  # the run that made it; the release gets its own marker
                copy = shutil.copytree if item.is_dir() else shutil.copy2
                copy(item, staged / item.name)
    run.log_output(output, name="release")
    commit_url = None
    if push_to_hub:
        from codekiln_train.hub import push_to_hub as upload

        commit_url = upload(output, push_to_hub, token=hub_token, private=private,
                            commit_message=f"codekiln release of {ref}")
        run.log_params({"hub.commit_url": commit_url})
    return ReleaseResult(output, commit_url)
