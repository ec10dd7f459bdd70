"""``codekiln train export MODEL --output DIR``: the contract's flags on a real registered
version; an existing output is refused before anything is downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.cli.app import main


def test_cli_exports_a_registered_version_and_records_its_own_run(
        mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codekiln_core.lineage import lineage_run, read_marker

    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"model_type": "llama"}')
    (checkpoint / "model.safetensors").write_bytes(b"\1" * 64)
    with lineage_run("train.pretrain", config={}) as run:
        run.log_model(checkpoint, name="base", register_as="base")
    out = tmp_path / "release"
    assert main(["train", "export", "models:/base/1", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"exported: {out}" in printed and "mlflow run:" in printed
    assert (out / "model.safetensors").read_bytes() == b"\1" * 64
    marker = read_marker(out)
    assert marker is not None and marker["run_id"] != run.run_id  # the export's own run

    assert main(["train", "export", "models:/base/1", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err and "choose a new --output" in err
    assert "--resume" not in err  # export writes whole: nothing to resume


def test_a_model_that_is_no_registered_version_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "export", "runs:/abc/model", "--output", str(tmp_path / "o"),
                 "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "models:/" in err, err
