"""``release``: a registered model version becomes a standalone HF directory, recorded by
the run it is given (the command's own run; tests/commands drive the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest


def _checkpoint(root: Path, *, weights: bool = True) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "tokenizer.json").write_text('{"version": "1.0"}')
    if weights:
        (root / "model.safetensors").write_bytes(b"\1" * 64)
    return root


def test_release_copies_the_registered_checkpoint_with_its_own_marker(
        mlflow_store: str, tmp_path: Path) -> None:
    from codekiln_core.lineage import lineage_run, read_marker
    from codekiln_train.release import release

    with lineage_run("train.run", config={}) as run:
        uri = run.log_model(_checkpoint(tmp_path / "ckpt"), name="tiny", register_as="tiny")
    with lineage_run("train.export", config={}) as export_run:
        result = release(uri, tmp_path / "out", export_run)
    assert result.output == tmp_path / "out" and result.commit_url is None
    assert (result.output / "model.safetensors").read_bytes() == b"\1" * 64
    assert (result.output / "tokenizer.json").is_file()
    marker = read_marker(result.output)
    assert marker is not None and marker["run_id"] == export_run.run_id != run.run_id


def test_release_without_weights_is_a_one_line_error(mlflow_store: str, tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError
    from codekiln_core.lineage import LineageRun, lineage_run
    from codekiln_train.release import release

    with lineage_run("train.run", config={}) as run:
        uri = run.log_model(_checkpoint(tmp_path / "ckpt", weights=False), name="t",
                            register_as="t")
    with pytest.raises(ConfigError, match=r"lacks model\.safetensors"):
        release(uri, tmp_path / "out", LineageRun(None))
    assert not (tmp_path / "out").exists()
