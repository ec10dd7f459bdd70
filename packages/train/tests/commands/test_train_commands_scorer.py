"""``codekiln train scorer LABELS --output DIR``: trains, registers and links to the labels
run; the output rule and bad inputs are one line before any work; the old ``--force`` still
replaces an output, with a deprecation line."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.cli.app import main

from ..conftest import label_rows, write_labels

#: Small and quick: the CLI's plumbing is under test here, not the scorer's quality.
QUICK = ["--device", "cpu", "--threads", "1", "--epochs", "1", "--max-tokens", "64",
         "--set", "tokenizer_vocab=512"]


@pytest.mark.slow
def test_cli_trains_registers_and_links_to_the_labels_run(
        mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codekiln_core.lineage import lineage_run
    from codekiln_core.lineage.chain import walk_chain
    from codekiln_core.testing import logged_curves

    labels = write_labels(tmp_path / "labels", label_rows(20))
    with lineage_run("curate.label", config={"teacher": "test"}) as label_run:
        label_run.log_output(labels, name="labels")
    out = tmp_path / "scorer"
    assert main(["train", "scorer", str(labels), "--preset", "tiny", "--output", str(out),
                 "--register", "test-scorer", *QUICK]) == 0
    printed = capsys.readouterr().out
    assert "Spearman" in printed and "mean over classes" in printed
    assert "models:/test-scorer/1" in printed and "mlflow run:" in printed
    chain = walk_chain("models:/test-scorer/1")
    assert [node.command for node in chain.runs] == ["train.scorer", "curate.label"]
    assert label_run.run_id in chain.runs[0].upstream
    assert (out / "tokenizer.json").is_file()  # the BPE trained on the labels is saved

    # The run's own curves, logged by train's loop: loss and lr at every step, validation
    # loss on the held-out split at evenly spaced steps, the last at the end.
    curves = logged_curves(chain.runs[0].run_id, tmp_path)
    steps = [p[0] for p in curves["loss"]["loss"]]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 2
    assert [p[0] for p in curves["learning rate"]["lr"]] == steps
    val = curves["loss"]["val_loss"]
    assert val[-1][0] == steps[-1] and 1 <= len(val) <= 5
    assert all(v > 0 for _, v in val)


def test_cli_refuses_to_overwrite_a_non_empty_output(tmp_path: Path, labels_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(["train", "scorer", str(labels_dir), "--output", str(out), "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "choose a new --output" in err, err
    assert (out / "keep.txt").read_text() == "precious"


@pytest.mark.slow
def test_old_force_flag_replaces_the_output_and_says_it_is_deprecated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = write_labels(tmp_path / "labels", label_rows(5))
    out = tmp_path / "busy"
    out.mkdir()
    (out / "old.txt").write_text("from an earlier run")
    assert main(["train", "scorer", str(labels), "--output", str(out), "--force",
                 "--no-lineage", "--set", "eval_points=0", *QUICK]) == 0
    err = capsys.readouterr().err
    assert "--force is deprecated" in err
    assert not (out / "old.txt").exists() and (out / "model.safetensors").is_file()


@pytest.mark.parametrize(("args", "needle"), [
    (["--init", "{tmp}/nope"], "init {tmp}/nope: no such directory"),
    (["--set", "num_attention_heads=3"], "num_attention_heads=3"),
])
def test_bad_inputs_are_one_line_errors(args: list[str], needle: str, labels_dir: Path,
                                        tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    code = main(["train", "scorer", str(labels_dir), "--output", str(tmp_path / "o"),
                 "--no-lineage", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert needle.replace("{tmp}", str(tmp_path)) in err, err
    assert not (tmp_path / "o").exists()


def test_missing_labels_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "scorer", str(tmp_path / "none"), "--output", str(tmp_path / "o"),
                 "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "no such file" in err, err
